// result.js -- the client's own fallback reply and the msgSecCheck-shaped view of a reply.
//
// Both follow docs/protocol.md: "Check reply" (the fallback: label 21000, or 100 for
// allow; degraded "unavailable") and "Labels" (the codes).
'use strict';

const SUGGEST = { block: 'risky', flag: 'review', allow: 'pass' };
const LABEL_PASS = 100;
const LABEL_FALLBACK = 21000;

// The reply a call resolves to when no endpoint answered in time.
function fallbackReply(decision, id) {
  const r = {
    v: 1,
    decision,
    suggest: SUGGEST[decision],
    label: decision === 'allow' ? LABEL_PASS : LABEL_FALLBACK,
    labels: [],
    matches: [],
    warnings: [],
    version: null,
    degraded: 'unavailable',
  };
  if (id !== undefined) r.id = id;
  return r;
}

// The deciding match (docs/protocol.md, "Check reply"): the first whose action is
// the decision; undefined when allowed (or when `truncated` left it out).
function decidingMatch(reply) {
  if (reply.decision === 'allow') return undefined;
  return (reply.matches || []).find((m) => m.action === reply.decision);
}

// A reply in the shape of WeChat's msgSecCheck (v2) answer: {errcode, errmsg,
// result: {suggest, label}, detail: [{strategy, errcode, suggest, label, keyword,
// prob}]}, so that code written for msgSecCheck can take filterd's answer.
function msgSecCheck(reply) {
  const m = decidingMatch(reply);
  const detail = [{
    strategy: 'keyword',
    errcode: 0,
    suggest: reply.suggest,
    label: reply.label,
    prob: m || reply.decision === 'allow' ? 90 : 0,
  }];
  if (m) detail[0].keyword = m.term;
  return {
    errcode: 0,
    errmsg: 'ok',
    result: { suggest: reply.suggest, label: reply.label },
    detail,
    degraded: reply.degraded || null,
  };
}

module.exports = { SUGGEST, LABEL_PASS, LABEL_FALLBACK, fallbackReply, decidingMatch, msgSecCheck };
