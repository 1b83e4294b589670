// Which known checkpoint family a set of keys comes from, by the key patterns each reference implementation writes.
// Used by `pixelllm inspect` and by loaders to tell a user which file they handed us.

export interface Family {
  name: string;
  /** where the keys come from */
  source: string;
  /** every pattern must match at least one key */
  patterns: RegExp[];
}

export const FAMILIES: Family[] = [
  { name: 'pixelllm', source: 'this project (reference prefixes)', patterns: [/^point_predictor\./, /^prompt_adapter\./, /^textual\./] },
  { name: 'peft-lora', source: 'peft LoRA adapter', patterns: [/\.lora_A\.(default\.)?weight$/, /\.lora_B\.(default\.)?weight$/] },
  { name: 'sam', source: 'transformers SamModel', patterns: [/^vision_encoder\.neck\./, /^prompt_encoder\.shared_embedding\./, /^mask_decoder\.transformer\./] },
  { name: 'sam-original', source: 'segment-anything (Meta) checkpoint', patterns: [/^image_encoder\.blocks\.\d+\.attn\.rel_pos_h$/, /^mask_decoder\.transformer\./] },
  { name: 'git', source: 'transformers GitForCausalLM', patterns: [/^git\.image_encoder\./, /^git\.encoder\.layer\.\d+\./, /^git\.visual_projection\./] },
  { name: 't5', source: 'transformers T5ForConditionalGeneration', patterns: [/^encoder\.block\.0\.layer\.0\.SelfAttention\.relative_attention_bias\.weight$/, /^decoder\.block\.\d+\.layer\.1\.EncDecAttention\./] },
  { name: 't5-encoder', source: 'transformers T5EncoderModel', patterns: [/^encoder\.block\.0\.layer\.0\.SelfAttention\.relative_attention_bias\.weight$/] },
  { name: 'llama', source: 'transformers LlamaForCausalLM (and Llama-family models)', patterns: [/^model\.layers\.\d+\.self_attn\.q_proj\.weight$/, /^model\.layers\.\d+\.mlp\.gate_proj\.weight$/, /^model\.embed_tokens\.weight$/] },
  { name: 'eva02', source: 'timm Eva (EVA02)', patterns: [/^blocks\.\d+\.attn\.q_proj\.weight$/, /^blocks\.\d+\.mlp\.(fc1_g|w1)\.weight$/, /^patch_embed\.proj\.weight$/] },
  { name: 'clip-vision', source: 'transformers CLIPVisionModel / CLIPModel', patterns: [/^(vision_model\.)?encoder\.layers\.\d+\.self_attn\.q_proj\.weight$/, /(^|\.)embeddings\.class_embedding$/] },
  { name: 'vit-torchvision', source: 'torchvision VisionTransformer', patterns: [/^encoder\.layers\.encoder_layer_\d+\./, /^conv_proj\.weight$/] },
  { name: 'bert', source: 'transformers BertModel', patterns: [/(^|\.)encoder\.layer\.\d+\.attention\.self\.query\.weight$/, /(^|\.)embeddings\.word_embeddings\.weight$/] },
];

/** The families whose every pattern matches some key, most specific (most patterns) first. */
export function detectFamilies(keys: string[]): Family[] {
  return FAMILIES.filter((f) => f.patterns.every((p) => keys.some((k) => p.test(k)))).sort((a, b) => b.patterns.length - a.patterns.length);
}

/** Collapses layer indices: `encoder.block.3.layer.0.q.weight` → `encoder.block.{i}.layer.0.q.weight`, counting the layers. */
export function groupKeys<T>(entries: [string, T][], same: (a: T, b: T) => boolean): { pattern: string; count: number; first: T; indices: number[] }[] {
  const groups = new Map<string, { members: [string, T][]; indices: number[] }>();
  for (const [key, value] of entries) {
    // only the first numeric segment becomes {i}: layers; a fixed index inside a layer (layer.0 / layer.1) stays
    const m = /^(.*?\.)(\d+)(\..*)$/.exec(key);
    const pattern = m ? `${m[1]}{i}${m[3]}` : key;
    const g = groups.get(pattern) ?? groups.set(pattern, { members: [], indices: [] }).get(pattern)!;
    g.members.push([key, value]);
    if (m) g.indices.push(Number(m[2]));
  }
  // a single key keeps its own name; a group whose members differ in shape or dtype is listed key by key
  return [...groups].flatMap(([pattern, { members, indices }]) => {
    const first = members[0][1];
    if (members.length > 1 && members.every(([, v]) => same(first, v))) return [{ pattern, count: members.length, first, indices }];
    return members.map(([key, value]) => ({ pattern: key, count: 1, first: value, indices: [] }));
  });
}
