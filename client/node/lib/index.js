// index.js -- the filterd client package for Node.js: the client, its errors, the result helpers.
'use strict';

const { Client, FilterdError, DEFAULTS, TRY_MARGIN_MS } = require('./client');
const { fallbackReply, decidingMatch, msgSecCheck, LABEL_PASS, LABEL_FALLBACK } = require('./result');

module.exports = {
  Client,
  FilterdError,
  DEFAULTS,
  TRY_MARGIN_MS,
  fallbackReply,
  decidingMatch,
  msgSecCheck,
  LABEL_PASS,
  LABEL_FALLBACK,
};
