// `pixelllm segment IMG "expression"`: the mask (and box) of the object a referring expression names.
import { referCommand } from './refer_command.ts';

export const command = referCommand('segment');
