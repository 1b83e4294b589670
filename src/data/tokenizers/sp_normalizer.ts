// SentencePiece's text normalizer: precompiled rules (if any), extra whitespace removal, the dummy prefix, and spaces
// written as U+2581. User-defined pieces pass through untouched.
// https://github.com/google/sentencepiece/blob/master/src/normalizer.cc (Normalize)
import type { NormalizerSpec } from './sentencepiece_proto.ts';
import { PrecompiledCharsMap } from './sp_charsmap.ts';

export const SPACE_SYMBOL = '\u2581';
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const LEADING_SPACES = /^ +/;
const SPACE_RUNS = / {2,}/g;

/** Longest-match lookup of the user-defined pieces, which are never normalized and never split. */
export class PrefixMatcher {
  private readonly lengths: number[];

  constructor(private readonly words: ReadonlySet<string>) {
    this.lengths = [...new Set([...words].map((w) => w.length))].sort((a, b) => b - a);
  }

  /** The length (UTF-16 code units) of the longest word starting at pos, or 0. */
  match(text: string, pos: number): number {
    for (const n of this.lengths) if (this.words.has(text.substr(pos, n))) return n;
    return 0;
  }

  get empty(): boolean {
    return this.words.size === 0;
  }
}

export class SpNormalizer {
  private readonly charsmap: PrecompiledCharsMap | null;

  constructor(
    private readonly spec: NormalizerSpec,
    private readonly treatWhitespaceAsSuffix: boolean,
    private readonly userDefined: PrefixMatcher | null,
    where: string,
  ) {
    this.charsmap = spec.precompiledCharsmap ? new PrecompiledCharsMap(spec.precompiledCharsmap, where) : null;
  }

  normalize(input: string): string {
    if (this.charsmap === null && (this.userDefined?.empty ?? true)) return this.normalizeIdentity(input);
    const { removeExtraWhitespaces: trim, addDummyPrefix, escapeWhitespaces } = this.spec;
    const space = escapeWhitespaces ? SPACE_SYMBOL : ' ';
    let pos = 0;
    if (trim) {
      for (let p = this.prefix(input, pos); pos < input.length && p[0] === ' '; p = this.prefix(input, pos)) pos += p[1];
    }
    if (pos >= input.length) return '';
    let out = !this.treatWhitespaceAsSuffix && addDummyPrefix ? space : '';
    let prevSpace = trim;
    while (pos < input.length) {
      let [piece, consumed] = this.prefix(input, pos);
      if (prevSpace) piece = piece.replace(/^ +/, '');
      if (piece !== '') {
        out += escapeWhitespaces ? piece.replaceAll(' ', SPACE_SYMBOL) : piece;
        prevSpace = piece.endsWith(' ');
      }
      pos += consumed;
      if (!trim) prevSpace = false;
    }
    if (trim) while (out.endsWith(space)) out = out.slice(0, -space.length);
    if (this.treatWhitespaceAsSuffix && addDummyPrefix) out += space;
    return out;
  }

  /** normalize() without rules or user-defined pieces (LLaMA's "identity"): the same steps as whole-string edits. */
  private normalizeIdentity(input: string): string {
    const { removeExtraWhitespaces: trim, addDummyPrefix, escapeWhitespaces } = this.spec;
    const space = escapeWhitespaces ? SPACE_SYMBOL : ' ';
    let text = SURROGATE.test(input) ? input.replace(LONE_SURROGATE, '\uFFFD') : input;
    if (trim) text = text.replace(LEADING_SPACES, '').replace(SPACE_RUNS, ' ');
    if (text === '') return '';
    let out = (!this.treatWhitespaceAsSuffix && addDummyPrefix ? space : '') + (escapeWhitespaces ? text.replaceAll(' ', SPACE_SYMBOL) : text);
    if (trim) while (out.endsWith(space)) out = out.slice(0, -space.length);
    return this.treatWhitespaceAsSuffix && addDummyPrefix ? out + space : out;
  }

  /** The normalized form of the text at pos and how many code units of input it consumes. */
  private prefix(input: string, pos: number): [string, number] {
    const user = this.userDefined?.match(input, pos) ?? 0;
    if (user > 0) return [input.substr(pos, user), user];
    const rule = this.charsmap?.match(input, pos);
    if (rule) return rule;
    const cp = input.codePointAt(pos)!;
    if (cp >= 0xd800 && cp <= 0xdfff) return ['\uFFFD', 1]; // a lone surrogate is malformed text: U+FFFD, as for bad UTF-8
    return cp > 0xffff ? [input.substr(pos, 2), 2] : [input[pos]!, 1];
  }
}
