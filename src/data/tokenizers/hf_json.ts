// HF `tokenizer.json` files (byte-level BPE as GPT-2 and Llama 3 use it, SentencePiece-style BPE with byte fallback,
// WordPiece, Unigram), through @huggingface/tokenizers, the pure-JS port of the tokenizers pipeline (normalizer,
// pre-tokenizer, model, post-processor, decoder). A `tokenizer_config.json` beside the file is read when present.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { TokenizerError, checkId, withSpecials, type EncodeOptions, type Tokenizer } from './tokenizer.ts';

type Json = Record<string, unknown>;

export class HfJsonTokenizer implements Tokenizer {
  readonly format = 'tokenizer.json' as const;
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  readonly unkId: number | null;
  private readonly hf: HfTokenizer;
  private readonly cleanUpSpaces: boolean;

  /** Reads tokenizer.json and, when it exists, tokenizer_config.json in the same folder. */
  static fromFile(path: string): HfJsonTokenizer {
    const json = readJson(path);
    const configPath = join(dirname(path), 'tokenizer_config.json');
    return new HfJsonTokenizer(json, existsSync(configPath) ? readJson(configPath) : {}, path);
  }

  constructor(json: Json, config: Json = {}, where = 'tokenizer.json') {
    if (typeof json.model !== 'object' || json.model === null) throw new TokenizerError(`${where}: has no "model" object; is this a tokenizers library tokenizer.json?`);
    const full = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json };
    try {
      this.hf = new HfTokenizer(full, config);
    } catch (e) {
      throw new TokenizerError(`${where}: ${(e as Error).message}`);
    }
    let size = 0;
    for (const id of this.hf.get_vocab(true).values()) size = Math.max(size, id + 1);
    this.vocabSize = size;
    const special = specialTokensOf(json, config);
    const idOf = (token: string | undefined): number | null => (token === undefined ? null : this.hf.token_to_id(token) ?? null);
    this.bosId = idOf(special.bos);
    this.eosId = idOf(special.eos);
    this.padId = typeof (json.padding as Json | null)?.pad_id === 'number' ? (json.padding as Json).pad_id as number : idOf(special.pad);
    this.unkId = idOf(special.unk);
    // the tokenizers library decodes with the file's decoder alone; transformers adds its clean-up only when the config asks
    this.cleanUpSpaces = config.clean_up_tokenization_spaces === true;
  }

  encode(text: string, options?: EncodeOptions): number[] {
    return withSpecials(this, this.hf.encode(text, { add_special_tokens: false }).ids, options);
  }

  decode(ids: ArrayLike<number>): string {
    const list = Array.from(ids);
    list.forEach((id) => checkId(id, this.vocabSize));
    if (list.length === 0) return '';
    return this.hf.decode(list, { skip_special_tokens: true, clean_up_tokenization_spaces: this.cleanUpSpaces });
  }

  idToToken(id: number): string {
    checkId(id, this.vocabSize);
    const token = this.hf.id_to_token(id);
    if (token === undefined) throw new RangeError(`token id ${id} has no entry in this tokenizer.json`);
    return token;
  }

  tokenToId(token: string): number | undefined {
    return this.hf.token_to_id(token);
  }
}

function readJson(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TokenizerError(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    return value as Json;
  } catch (e) {
    throw new TokenizerError(`${path}: is not valid JSON (${(e as Error).message})`);
  }
}

/** A token named in tokenizer_config.json: a string or an AddedToken object {content}. */
function configToken(config: Json, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const v = config[key];
    if (typeof v === 'string') return v;
    if (typeof v === 'object' && v !== null && typeof (v as Json).content === 'string') return (v as Json).content as string;
  }
  return undefined;
}

/**
 * BOS/EOS/PAD/UNK: from tokenizer_config.json (bos_token or cls_token, eos_token or sep_token, ...), else from what
 * the post-processor puts around a single sequence (TemplateProcessing, BertProcessing, RobertaProcessing).
 */
function specialTokensOf(json: Json, config: Json): { bos?: string; eos?: string; pad?: string; unk?: string } {
  const around = templateSpecials(json.post_processor as Json | null | undefined);
  const model = json.model as Json;
  return {
    bos: configToken(config, 'bos_token', 'cls_token') ?? around.before,
    eos: configToken(config, 'eos_token', 'sep_token') ?? around.after,
    pad: configToken(config, 'pad_token') ?? ((json.padding as Json | null)?.pad_token as string | undefined),
    unk: configToken(config, 'unk_token') ?? (typeof model.unk_token === 'string' ? model.unk_token : undefined),
  };
}

function templateSpecials(pp: Json | null | undefined): { before?: string; after?: string } {
  if (!pp) return {};
  if (pp.type === 'Sequence') {
    const found = ((pp.processors as Json[] | undefined) ?? []).map(templateSpecials);
    return { before: found.find((f) => f.before)?.before, after: found.find((f) => f.after)?.after };
  }
  if (pp.type === 'BertProcessing' || pp.type === 'RobertaProcessing') {
    return { before: (pp.cls as [string, number] | undefined)?.[0], after: (pp.sep as [string, number] | undefined)?.[0] };
  }
  if (pp.type === 'TemplateProcessing' && Array.isArray(pp.single)) {
    const items = pp.single as Json[];
    const seq = items.findIndex((p) => 'Sequence' in p);
    const special = (p: Json | undefined): string | undefined => ((p?.SpecialToken as Json | undefined)?.id as string | undefined);
    return { before: seq > 0 ? special(items[seq - 1]) : undefined, after: seq >= 0 ? special(items[seq + 1]) : undefined };
  }
  return {};
}
