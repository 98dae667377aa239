// obscenity.js -- peer: obscenity (npm, the TypeScript profanity filter) on Latin disguises.
//
// Usage: node obscenity.js MODULE_DIR SPELLINGS_TSV CLEAN_FILE...
// With its recommended English setup (englishDataset + englishRecommendedTransformers),
// as its README shows. Prints one JSON object: for every line of SPELLINGS_TSV
// ("spelling<TAB>entry" or "<TAB>-" for clean text) whether obscenity matched it,
// and per clean file (one text per line) how many texts it matched.
'use strict';
const fs = require('fs');
const path = require('path');

const [moduleDir, spellingsPath, ...cleanPaths] = process.argv.slice(2);
const ob = require(path.resolve(moduleDir, 'obscenity'));
const version = require(path.resolve(moduleDir, 'obscenity/package.json')).version;
const matcher = new ob.RegExpMatcher({
  ...ob.englishDataset.build(),
  ...ob.englishRecommendedTransformers,
});

const lines = (p) => fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.trim() !== '');
const spellings = lines(spellingsPath).filter((l) => !l.startsWith('#') && l.includes('\t'))
  .map((l) => { const [text, entry] = l.split('\t'); return { text, entry, hit: matcher.hasMatch(text) }; });
const clean = cleanPaths.map((p) => {
  const texts = lines(p);
  return { file: p, texts: texts.length, flagged: texts.filter((t) => matcher.hasMatch(t)).length };
});
console.log(JSON.stringify({ peer: 'obscenity', version, spellings, clean }));
