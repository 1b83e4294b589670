// What goes wrong with an image file. Every message names the file, so a bad image in a million-image dataset is found
// without a debugger; the classes cross worker threads by name (see batch/image_job.ts).
import { UserError } from '../../errors.ts';

/** An image file that cannot be read, decoded or used (missing, damaged, unsupported, wrong size). */
export class ImageError extends UserError {
  override name = 'ImageError';

  constructor(readonly file: string, message: string) {
    super(message);
  }
}

/** An image whose header claims more pixels than the decompression-bomb limit allows. */
export class ImageTooLargeError extends ImageError {
  override name = 'ImageTooLargeError';
}
