// The tokenisation pycocoevalcap applies before every caption metric: Stanford CoreNLP 3.4.1's PTBTokenizer run as
// `-preserveLines -lowerCase`, then the tokens in PUNCTUATIONS dropped. This is a port of the PTBLexer rules that occur
// in captions (words, contractions, hyphenated words, numbers, abbreviations and acronyms, quotes, brackets, dashes,
// ellipses, the slash and asterisk escapes), matched as JFlex does: the longest match wins (trailing context counts
// toward the length), ties go to the earlier rule. Lowercasing happens after the PTB escapes, so "(" becomes "-lrb-",
// which is not in the punctuation list and stays, exactly as in pycocoevalcap.
// https://github.com/tylin/coco-caption/blob/master/pycocoevalcap/tokenizer/ptbtokenizer.py
// https://github.com/stanfordnlp/CoreNLP/blob/master/src/edu/stanford/nlp/process/PTBLexer.flex

/** The tokens pycocoevalcap removes after tokenising (compared after lowercasing, so the upper-case escapes never match). */
export const PUNCTUATIONS = new Set(["''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--', '...', ';']);

const L = 'A-Za-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u024F'; // letters ([:letter:] restricted to Latin scripts)
const APOS = "['\\u0092\\u2019]|&apos;";
const APOSETC = `(?:${APOS}|[\\u0091\\u2018\\u201B])`;
const HYPHEN = '[-_\\u058A\\u2010\\u2011]';
// the longer alternative first: a regex alternation takes the first that matches, JFlex the longest
const NUM = '[0-9]*(?:[.:,\\u00AD][0-9]+)+|[0-9]+';
const THING = `(?:[dDoOlL]${APOSETC}[${L}0-9])?[${L}0-9]+(?:${HYPHEN}(?:[dDoOlL]${APOSETC}[${L}0-9])?[${L}0-9]+)*`;
const REDAUX = `(?:${APOS})(?:[msdMSD]|re|ve|ll|RE|VE|LL)`;
const ACRO = `[A-Za-z](?:\\.[A-Za-z])+`;
const ABTITLE = 'Mr|Mrs|Ms|Miss|Drs?|Profs?|Sens?|Reps?|Attys?|Lt|Col|Gen|Messrs|Govs?|Adm|Rev|Maj|Sgt|Cpl|Pvt|Mt|Capt|Ste?|Ave|Pres|Lieut|Hon|Brig|Co?mdr|Pfc|Spc|Supts?|Det';
const ABBREV1 = 'Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Mon|Tue|Tues|Wed|Thu|Thurs|Fri|Inc|Cos?|Corp|Pp?tys?|Ltd|Plc|Bancorp|Dept|Bhd|Assn|Univ|Intl|Sys|Nos?|Prop|Ph|tel|est|ext|sq|ft|Jr|Sr|Bros|Blvd|Rd|Esq|etc|al|seq';

type Emit = (text: string) => string[];
interface Rule {
  re: RegExp;
  /** length of the token itself when the rule has trailing context (the rest is pushed back) */
  keep?: (m: string) => number;
  emit: Emit;
}

const asIs: Emit = (t) => [t];
const escapeSlashStar: Emit = (t) => [t.replace(/(?<!\\)([/*])/g, '\\$1')];
const rule = (src: string, emit: Emit = asIs, keep?: (m: string) => number): Rule => ({ re: new RegExp(src, 'uy'), emit, keep });
const ci = (src: string, emit: Emit = asIs, keep?: (m: string) => number): Rule => ({ re: new RegExp(src, 'iuy'), emit, keep });

// In the lexer's order: on equal match lengths the earlier rule wins.
const RULES: Rule[] = [
  ci('cannot', () => ['can', 'not']),
  rule('&(?:MD|mdash|ndash);|[\\u0096\\u0097\\u2013\\u2014\\u2015]', () => ['--']),
  rule('&amp;', () => ['&']),
  // a word followed by 's 'm 'd 're 've 'll: the word alone (the clitic is the next token)
  rule(`[${L}]+(?=${REDAUX})`, asIs),
  // a word before n't ("do" + "n't", "ca" + "n't")
  rule(`[${L}]*[A-MO-Za-mo-z](?=n${APOSETC}t)`, asIs),
  rule(`[${L}]+`, asIs),
  rule(`(?:${APOS})n(?:${APOS})?|[lLdDjJ](?:${APOS})|${APOS}em|[A-HJ-XZn]${APOSETC}[${L}]{2,}|(?:${APOS})[2-9]0s|(?:${APOS})till?|[${L}]+[aeiouyAEIOUY]${APOSETC}[aeiouA-Z][${L}]*|(?:${APOS})cause|o'clock|c'mon`, asIs),
  rule(`https?://[^ \\t\\n\\f\\r"<>|()]+[^ \\t\\n\\f\\r"<>|.!?(){},-]`, escapeSlashStar),
  rule(`[A-Za-z0-9][^ \\t\\n\\f\\r"<>|()\\u00A0]*@(?:[^ \\t\\n\\f\\r"<>|().\\u00A0]+\\.)+[a-zA-Z]{2,4}`, asIs),
  rule(REDAUX, asIs),
  rule(`n${APOSETC}t`, asIs),
  rule('[0-9]{1,2}[-/][0-9]{1,2}[-/][0-9]{2,4}', escapeSlashStar),
  rule(`[-+]?(?:${NUM})`, asIs),
  rule('(?:[0-9]{1,4}[- \\u00A0])?[0-9]{1,4}\\\\?/[0-9]{1,4}', (t) => escapeSlashStar(t.replace(' ', '\u00A0'))),
  rule('[\\u00BC\\u00BD\\u00BE\\u2153-\\u215E]', (t) => [({ '\u00BC': '1\\/4', '\u00BD': '1\\/2', '\u00BE': '3\\/4' } as Record<string, string>)[t] ?? t]),
  rule(THING, asIs),
  rule('[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}', escapeSlashStar),
  // acronyms keep their final dot and a copy of it is the next token (the lexer's "reduplication")
  rule(`(?:${ACRO})\\.`, (t) => (t.length === 2 ? [t.slice(0, 1), '.'] : [t, '.'])),
  ci(`(?:${ABBREV1})\\.(?=\\s*$)`, (t) => [t, '.']),
  ci(`(?:${ABBREV1})\\.`, asIs),
  ci(`(?:[A-Za-z]|${ABTITLE}|vs|Alex|Wm|Jos|Cie|a\\.k\\.a|cf|TREAS|${ACRO}|Invt|Elec|Natl|M[ft]g)\\.`, asIs),
  rule('\\.{3,5}|(?:\\.[ \\u00A0]){2,4}\\.|[\\u0085\\u2026]', () => ['...']),
  rule('[([]|&lt;|<', () => ['-LRB-']),
  rule('[)\\]]|&gt;|>', () => ['-RRB-']),
  rule('\\{', () => ['-LCB-']),
  rule('\\}', () => ['-RCB-']),
  rule('-+', asIs),
  rule('[,;:]', asIs),
  rule('[.?!]', asIs),
  rule('\\*+', escapeSlashStar),
  rule('/', escapeSlashStar),
  rule('[$#%&+=@^|~\\\\]|[A-Z]*\\$', asIs),
  rule('[\\u00A2-\\u00A5\\u20AC]', asIs),
];

const QUOTE = new RegExp(`"|&quot;|''|\`\`|[\`\\u2018\\u2019\\u201A\\u201B\\u201C\\u201D\\u201E\\u201F\\u2039\\u203A\\u00AB\\u00BB]{1,2}|${APOS}`, 'uy');
const SPACE = /[\s\u00A0\u2000-\u200A\u3000]+/uy;

/** PTB tokens of one line (before lowercasing and punctuation removal). */
export function ptbTokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    SPACE.lastIndex = i;
    if (SPACE.exec(line)) {
      i = SPACE.lastIndex;
      continue;
    }
    let best: { len: number; rule: Rule; text: string } | null = null;
    for (const r of RULES) {
      r.re.lastIndex = i;
      const m = r.re.exec(line);
      if (m === null || m[0].length === 0) continue;
      // trailing context of a lookahead rule counts toward the match length as in JFlex
      const total = m[0].length + lookaheadLength(r, line, i + m[0].length);
      if (best === null || total > best.len) best = { len: total, rule: r, text: m[0] };
    }
    QUOTE.lastIndex = i;
    const q = QUOTE.exec(line);
    if (q !== null && (best === null || q[0].length > best.len)) {
      // quotes become `` '' ` ' (all of which pycocoevalcap removes)
      out.push(/^["`\u201C\u201E\u00AB]|^&quot;|^``/.test(q[0]) ? '``' : "''");
      i += q[0].length;
      continue;
    }
    if (best === null) {
      i += 1; // an untokenizable character: deleted, as the lexer's default "firstDelete" does
      continue;
    }
    out.push(...best.rule.emit(best.text));
    i += best.text.length;
  }
  return out;
}

function lookaheadLength(r: Rule, line: string, at: number): number {
  const src = r.re.source;
  const look = src.match(/\(\?=(.*)\)$/);
  if (look === null) return 0;
  const m = new RegExp(look[1]!, 'uy');
  m.lastIndex = at;
  const hit = m.exec(line);
  return hit === null ? 0 : hit[0].length;
}

/** A caption as pycocoevalcap scores it: PTB tokens, lowercased, punctuation tokens removed, joined by single spaces. */
export function tokenizeCaption(caption: string): string {
  return ptbTokens(caption.replace(/\n/g, ' '))
    .map((t) => t.toLowerCase())
    .filter((t) => !PUNCTUATIONS.has(t))
    .join(' ');
}
