// Public backbone checkpoints loaded into a PixelLLM as they are published: inside each backbone the keys already are
// the public ones (DESIGN §3), so loading only swaps a prefix. timm EVA02 → `git_backbone.`; HF SamModel's
// `vision_encoder.` → `sam_backbone.` (its prompt encoder and mask decoder keep their names); HF T5 or Llama →
// `textual.`; git-base's decoder (`git.embeddings.`, `git.encoder.`, `output.`) → `textual.`; BERT's embeddings and
// layers → the GIT-style decoder where the two layouts coincide (its `output.` head stays as initialised).
import type { Tensor } from '../../tensor/index.ts';
import { StateDictError } from '../../nn/index.ts';
import { LORA_KEY } from '../../nn/lora.ts';
import { detectFamilies } from '../../nn/families.ts';
import { readSafetensors, readSafetensorsHeader } from '../../nn/safetensors.ts';
import { t5StateDict } from '../t5.ts';
import type { PixelLLM } from './pixelllm.ts';
import { T5TextModel } from './t5_text.ts';

export interface PublicBackboneFiles {
  /** timm EVA02 safetensors (e.g. eva02_large_patch14_224.mim_in22k) */
  eva?: string;
  /** HF SamModel safetensors (facebook/sam-vit-*) */
  sam?: string;
  /** the language model: HF T5 (t5 configs), HF Llama (llama), git-base or BERT (git) */
  text?: string;
}

export interface IgnoredKey {
  file: string;
  key: string;
  why: string;
}

export interface BackboneLoadReport {
  /** model keys filled from a file */
  loaded: string[];
  /** model keys no file filled: they keep their initial values */
  untouched: string[];
  /** file keys left out, and why */
  ignored: IgnoredKey[];
}

/** How one public file's keys become the model's. */
interface KeyMap {
  /** the model key of a file key, or why the key is left out */
  target(key: string): string | { ignore: string };
  /** the model keys the file must fill (any missing is an error) */
  fills(modelKey: string): boolean;
  /** reconciles tied copies among the file's tensors (file keys) before they are renamed */
  untie?(state: Map<string, Tensor>): Map<string, Tensor>;
}

const SAM_TIED = 'shared_image_embedding.positional_embedding';
const SAM_OWNER = 'prompt_encoder.shared_embedding.positional_embedding';

const swapPrefix = (key: string, pairs: [string, string][]): string | null => {
  const hit = pairs.find(([from]) => key.startsWith(from));
  return hit ? hit[1] + key.slice(hit[0].length) : null;
};

/** A file recognised as another known family than the one expected is refused by name (an unknown one meets the key checks). */
function refuseOtherFamily(file: string, keys: string[], expected: string, what: string): void {
  const families = detectFamilies(keys).map((f) => f.name);
  if (families.length > 0 && !families.includes(expected)) throw new StateDictError(`${file}: expected ${what}, but it looks like ${families.join(', ')}`);
}

function evaMap(model: PixelLLM, file: string, keys: string[]): KeyMap {
  if (!model.git_backbone) throw new StateDictError(`${file}: this config has no EVA02 encoder (eva: null), so there is nothing to load an EVA02 checkpoint into`);
  refuseOtherFamily(file, keys, 'eva02', 'a timm EVA02 checkpoint');
  const hasHead = model.git_backbone.head !== null;
  return {
    target: (key) => (/^head\./.test(key) && !hasHead ? { ignore: 'the classifier head (PixelLLM reads the features before it)' } : `git_backbone.${key}`),
    fills: (k) => k.startsWith('git_backbone.'),
  };
}

const SAM_PREFIXES: [string, string][] = [['vision_encoder.', 'sam_backbone.'], ['prompt_encoder.', 'prompt_encoder.'], ['mask_decoder.', 'mask_decoder.']];

function samMap(file: string, keys: string[]): KeyMap {
  refuseOtherFamily(file, keys, 'sam', 'an HF SamModel checkpoint (facebook/sam-vit-*)');
  return {
    target: (key) => swapPrefix(key, SAM_PREFIXES) ?? key, // anything else is reported as unexpected
    fills: (k) => SAM_PREFIXES.some(([, to]) => k.startsWith(to)),
    // HF ties the prompt encoder's Fourier frequencies to the model's; a file may hold either copy or both
    untie: (state) => {
      const out = new Map(state);
      const tied = state.get(SAM_TIED);
      if (!tied) return out;
      const owner = state.get(SAM_OWNER);
      if (owner && !sameValues(owner, tied)) throw new StateDictError(`SAM checkpoint: ${SAM_TIED} differs from ${SAM_OWNER}; HF ties them, so the file is inconsistent`);
      out.delete(SAM_TIED);
      out.set(SAM_OWNER, tied);
      return out;
    },
  };
}

const textual = (key: string): string => `textual.${key}`;
const fillsText = (k: string): boolean => k.startsWith('textual.') && !LORA_KEY.test(k);

function gitBaseMap(): KeyMap {
  const pairs: [string, string][] = [['git.embeddings.', 'textual.embeddings.'], ['git.encoder.', 'textual.encoder.'], ['output.', 'textual.output.']];
  return {
    target: (key) => swapPrefix(key, pairs) ?? (key.startsWith('git.') ? { ignore: "git-base's own image tower and projection (PixelLLM's encoders and adapter replace them)" } : key),
    fills: fillsText,
  };
}

/** BERT (BertModel or BertFor*, `bert.` prefix or none) into the GIT-style decoder: the same embeddings and post-norm layers. */
function bertMap(layers: number): KeyMap {
  return {
    target: (raw) => {
      const key = raw.replace(/^bert\./, '').replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias'); // TF-era LayerNorm names, as HF renames them
      const layer = /^encoder\.layer\.(\d+)\./.exec(key);
      if (layer && Number(layer[1]) >= layers) return { ignore: `the decoder has ${layers} layers; BERT's deeper layers are left out` };
      if (/^embeddings\.(word_embeddings|position_embeddings|LayerNorm)\./.test(key) || layer) return textual(key);
      if (key.startsWith('embeddings.token_type_embeddings.')) return { ignore: 'the GIT decoder has no token types' };
      if (/^(pooler|cls)\./.test(key)) return { ignore: "BERT's pooler and masked-LM head have no place in the GIT decoder (textual.output stays as initialised)" };
      return raw;
    },
    fills: (k) => k.startsWith('textual.embeddings.') || k.startsWith('textual.encoder.'),
  };
}

/** The text map for the config's language model and what the file holds. */
function textMap(model: PixelLLM, file: string, keys: string[]): KeyMap {
  const families = detectFamilies(keys).map((f) => f.name);
  const kind = model.config.text.kind;
  const found = (): string => (families.length ? `it looks like ${families.join(', ')}` : 'no known checkpoint family matches its keys');
  const t5 = model.textual;
  if (t5 instanceof T5TextModel && families.includes('t5')) return { target: textual, fills: fillsText, untie: (state) => t5StateDict(state, t5, file) };
  if (kind === 'llama' && families.includes('llama')) return { target: textual, fills: fillsText };
  if (kind === 'git' && families.includes('git')) return gitBaseMap();
  if (kind === 'git' && families.includes('bert')) return bertMap(model.config.text.config.num_hidden_layers);
  const want = { t5: 'an HF T5 checkpoint', llama: 'an HF Llama checkpoint', git: 'a git-base (GitForCausalLM) or BERT checkpoint' }[kind];
  throw new StateDictError(`${file}: the config's language model is ${kind}, which loads ${want}, but ${found()}`);
}

function sameValues(a: Tensor, b: Tensor): boolean {
  const x = a.values();
  const y = b.values();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/**
 * Loads public backbone checkpoints into `model` with their keys re-prefixed only. Each file is checked whole (every
 * key it must fill present, nothing unexpected, every shape right) before any of its tensors is copied.
 */
export function loadPublicBackbones(model: PixelLLM, files: PublicBackboneFiles): BackboneLoadReport {
  const loaded = new Set<string>();
  const ignored: IgnoredKey[] = [];
  const plans: [string | undefined, (file: string, keys: string[]) => KeyMap][] = [
    [files.eva, (file, keys) => evaMap(model, file, keys)],
    [files.sam, (file, keys) => samMap(file, keys)],
    [files.text, (file, keys) => textMap(model, file, keys)],
  ];
  for (const [file, plan] of plans) {
    if (file === undefined) continue;
    const keys = [...readSafetensorsHeader(file).entries.keys()];
    const map = plan(file, keys);
    const kept = new Set(keys.filter((key) => {
      const t = map.target(key);
      if (typeof t !== 'string') ignored.push({ file, key, why: t.ignore });
      return typeof t === 'string';
    }));
    let state = readSafetensors(file, (key) => kept.has(key)); // only the kept tensors are read
    if (map.untie) state = map.untie(state);
    for (const key of kept) if (!state.has(key)) ignored.push({ file, key, why: 'a tied copy of another tensor of the file (checked equal, loaded once)' });
    const renamed = new Map([...state].map(([key, t]) => [map.target(key) as string, t]));
    model.loadStateDict(renamed, { source: file, only: map.fills });
    for (const key of renamed.keys()) loaded.add(key);
  }
  const untouched = [...model.stateDict().keys()].filter((k) => !loaded.has(k));
  return { loaded: [...loaded], untouched, ignored };
}
