// Tokens → words, for per-word locations: a WordPiece `##` piece continues the word before it; a SentencePiece `▁`
// piece or a byte-level `Ġ` piece starts one (other pieces, punctuation included, continue the word before them). A word's box is the mean of its tokens' boxes.
import type { Tokenizer } from '../data/tokenizers/index.ts';
import type { Box } from '../data/types.ts';

export interface WordSpan {
  word: string;
  tokens: string[];
  /** indexes into the token list */
  from: number;
  to: number;
}

export function groupWords(tokenizer: Tokenizer, ids: number[]): WordSpan[] {
  const words: WordSpan[] = [];
  ids.forEach((id, i) => {
    const piece = tokenizer.idToToken(id);
    const continues = tokenizer.format === 'wordpiece' ? piece.startsWith('##') : !/^[▁Ġ]/.test(piece) && i > 0;
    const last = words.at(-1);
    if (continues && last) {
      last.tokens.push(piece);
      last.to = i + 1;
      last.word = tokenizer.decode(ids.slice(last.from, i + 1)).trim();
    } else {
      words.push({ word: tokenizer.decode([id]).trim(), tokens: [piece], from: i, to: i + 1 });
    }
  });
  return words.filter((w) => w.word !== '');
}

export function meanBox(boxes: Box[]): Box {
  const s = [0, 0, 0, 0];
  for (const b of boxes) for (let k = 0; k < 4; k++) s[k]! += b[k]! / boxes.length;
  return s.map((v) => Math.round(v * 100) / 100) as Box;
}
