// Image sizes for the examples whose files do not give them (Localized Narratives, the embedded-ann RefCOCO layout,
// VG without image_data): read from each image file's header (no decoding), once per image. The size is the stored
// pixel grid, before any EXIF rotation, which is the grid COCO's json sizes and boxes refer to.
import { BadRecords, DataError } from './records.ts';
import type { Example } from './types.ts';
import { readImageSize } from './image/decode.ts';
import { ImageError } from './image/errors.ts';

/** The examples with width and height 0 given their image's size; one whose image cannot be read goes to `bad`. */
export async function* fillImageSizes(examples: AsyncIterable<Example>, bad = new BadRecords()): AsyncGenerator<Example> {
  const sizes = new Map<string, { width: number; height: number } | DataError>();
  for await (const ex of examples) {
    if (ex.width > 0 && ex.height > 0) {
      yield ex;
      continue;
    }
    if (!sizes.has(ex.imagePath)) {
      try {
        sizes.set(ex.imagePath, await readImageSize(ex.imagePath, { exifOrientation: false }));
      } catch (e) {
        if (!(e instanceof ImageError)) throw e;
        sizes.set(ex.imagePath, new DataError(e.message));
      }
    }
    const size = sizes.get(ex.imagePath)!;
    if (size instanceof DataError) bad.report(new DataError(`example ${ex.id} (${ex.source}): ${size.message}`));
    else yield { ...ex, ...size };
  }
}
