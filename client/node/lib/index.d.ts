// index.d.ts -- TypeScript types of the filterd client (docs/protocol.md is the reference).

export type Decision = 'block' | 'flag' | 'allow';
export type Scene = 'profile' | 'comment' | 'forum' | 'social_log' | 'nickname' | 'title' | 'chat';
export type Label =
  | 'politics' | 'porn' | 'abuse' | 'violence' | 'gambling' | 'contraband' | 'fraud'
  | 'vulgar' | 'trademark' | 'ad' | 'privacy' | 'cult' | 'other';

/** One reported match ("Check reply"); offsets are bytes of the UTF-8 text. */
export interface Match {
  start: number;
  end: number;
  term: string;
  label: Label;
  action: Decision;
  list: string;
  line: number;
  via: string;
  /** Only with explain: how it was found, step by step, for people; [] when as written. */
  chain?: string[];
}

/** A check reply; `degraded` "unavailable" is this client's own fallback. */
export interface CheckReply {
  v?: 1;
  id?: string | number;
  decision: Decision;
  suggest: 'risky' | 'review' | 'pass';
  label: number;
  labels: Label[];
  matches: Match[];
  warnings: string[];
  version: string | null;
  degraded: null | 'deadline' | 'overload' | 'unavailable';
  views?: { folded: string; compact: string };
  elapsed_us?: number;
}

/** A bulk result for a text filterd could not check. */
export interface ItemError {
  id?: string | number;
  error: { code: 'bad_request' | 'too_large'; message: string };
}

export interface Item {
  text: string;
  id?: string | number;
  scene?: Scene;
}

export interface ClientOptions {
  /** filterd's request endpoints, tried in turn (default tcp://127.0.0.1:7700). */
  endpoints?: string[] | string;
  /** A call's timeout, then the fallback (default 2500). */
  timeoutMs?: number;
  /** A try's length: at least this and budget + 250 ms (default 1000). */
  tryMs?: number;
  /** Tries of a call (default 3). */
  retries?: number;
  /** No connection within this: the next endpoint (default 250). */
  connectWaitMs?: number;
  /** The decision when no endpoint answered (default 'flag'). */
  fallback?: Decision;
  /** Texts per bulk request (default 32). */
  maxItems?: number;
  /** Calls queued or in flight; more resolve to the fallback at once (default 10000). */
  maxPending?: number;
  scene?: Scene;
  budgetMs?: number;
}

export interface CallOptions {
  scene?: Scene;
  budgetMs?: number;
  timeoutMs?: number;
  explain?: boolean;
}

export class FilterdError extends Error {
  code: 'bad_request' | 'too_large' | 'unknown_op' | 'forbidden' | 'internal';
}

export class Client {
  constructor(options?: ClientOptions);
  check(text: string, opts?: CallOptions): Promise<CheckReply>;
  checkMany(texts: Array<string | Item>, opts?: CallOptions): Promise<Array<CheckReply | ItemError>>;
  ping(opts?: CallOptions): Promise<{ v: 1; id: number; version: string; [k: string]: unknown }>;
  close(): void;
  readonly stats: { sent: number; replies: number; late: number; fallbacks: number; failovers: number };
}

export interface MsgSecCheckResult {
  errcode: 0;
  errmsg: 'ok';
  result: { suggest: 'risky' | 'review' | 'pass'; label: number };
  detail: Array<{ strategy: 'keyword'; errcode: 0; suggest: string; label: number; keyword?: string; prob: number }>;
  degraded: CheckReply['degraded'];
}

/** A try lasts at least budget_ms + this (ms). */
export const TRY_MARGIN_MS: 250;
export const DEFAULTS: Required<Omit<ClientOptions, 'endpoints' | 'scene' | 'budgetMs'>>;
export const LABEL_PASS: 100;
export const LABEL_FALLBACK: 21000;
export function fallbackReply(decision: Decision, id?: string | number): CheckReply;
export function decidingMatch(reply: CheckReply): Match | undefined;
export function msgSecCheck(reply: CheckReply): MsgSecCheckResult;
