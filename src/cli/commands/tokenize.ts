// `pixelllm tokenize TOKENIZER TEXT...`: the token ids and tokens of a text under any tokenizer file, and the text
// decoded back, to check what a model will see.
import { readFileSync } from 'node:fs';
import { UserError } from '../../errors.ts';
import { loadTokenizer } from '../../data/tokenizers/index.ts';
import type { Command } from '../main.ts';

const USAGE = `usage: pixelllm tokenize TOKENIZER [--bos] [--eos] [TEXT...]
  TOKENIZER  a BERT vocab.txt, SentencePiece .model, tokenizer.json, llama2.c tokenizer.bin, or a folder holding one
  --bos      prepend the begin-of-sequence token (BERT: [CLS])
  --eos      append the end-of-sequence token (BERT: [SEP])
  TEXT       the words to tokenize; standard input when none is given
Prints the ids, the tokens and the decoded text, one JSON value a line.`;

export const command: Command = {
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      console.log(USAGE);
      return 0;
    }
    const unknown = args.find((a) => a.startsWith('--') && a !== '--bos' && a !== '--eos');
    if (unknown) throw new UserError(`unknown option ${unknown}\n${USAGE}`);
    const [path, ...words] = args.filter((a) => a !== '--bos' && a !== '--eos');
    if (path === undefined) throw new UserError(`no tokenizer file given\n${USAGE}`);
    const tok = loadTokenizer(path);
    const text = words.length > 0 ? words.join(' ') : readFileSync(0, 'utf8');
    const ids = tok.encode(text, { bos: args.includes('--bos'), eos: args.includes('--eos') });
    console.log(`ids: ${JSON.stringify(ids)}`);
    console.log(`tokens: ${JSON.stringify(ids.map((id) => tok.idToToken(id)))}`);
    console.log(`decoded: ${JSON.stringify(tok.decode(ids))}`);
    return 0;
  },
};
