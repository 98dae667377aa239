// mint.js -- peer: mint-filter (npm, Aho-Corasick), every post scanned on its own.
//
// Usage: node mint.js MODULE_DIR TERMS_FILE POSTS_FILE SECONDS
// Prints one JSON object like aho.py's. The timed loop is what a Node.js
// Mini Program backend does per post: filter(text, {replace: false}), which
// collects every matching word.
'use strict';
const fs = require('fs');
const path = require('path');

const MB = 1e6;
const [moduleDir, termsPath, postsPath, secondsArg] = process.argv.slice(2);
const { Mint } = require(path.resolve(moduleDir, 'mint-filter'));
const version = require(path.resolve(moduleDir, 'mint-filter/package.json')).version;

const lines = (p) => fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.trim() !== '');
const terms = lines(termsPath);
const posts = lines(postsPath);
const nbytes = posts.reduce((n, p) => n + Buffer.byteLength(p, 'utf8'), 0);
const seconds = Number(secondsArg);

let t0 = process.hrtime.bigint();
const mint = new Mint(terms);
const buildS = Number(process.hrtime.bigint() - t0) / 1e9;

let passes = 0, matches = 0, el = 0;
t0 = process.hrtime.bigint();
for (;;) {
  matches = 0;
  for (const p of posts) matches += mint.filter(p, { replace: false }).words.length;
  passes++;
  el = Number(process.hrtime.bigint() - t0) / 1e9;
  if (el >= seconds) break;
}
console.log(JSON.stringify({
  peer: 'mint-filter', version, terms: terms.length, build_s: buildS, passes,
  posts_s: passes * posts.length / el, mb_s: passes * nbytes / MB / el, matches,
}));
