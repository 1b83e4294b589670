// The image pipeline's public API: decode, place on the canvas (resize, augment, pad), normalise; geometry helpers
// that move boxes, points and masks with the pixels.
export { ImageError, ImageTooLargeError } from './errors.ts';
export { decodeImage, decodeImageBytes, readImageSize, sniffFormat, maxPixelsFromEnv, DEFAULT_MAX_PIXELS, MAX_PIXELS_ENV, type DecodeOptions, type DecodedImage } from './decode.ts';
export { fitLonger, fitGeometry, cropGeometry, scaleOf, mapBox, mapPoint, mapUtterance, boxVisible, boxTouchesWindow, type Geometry } from './geometry.ts';
export { resampleRgb, resampleMask } from './resample.ts';
export { NORMALIZATIONS, normalizeCanvas, paddingMask, type Normalization, type ChannelStats } from './normalize.ts';
export { drawGeometry, swapLeftRight, checkAugment, REFERENCE_AUGMENT, NO_AUGMENT, type AugmentOptions } from './augment.ts';
export { prepareImage, renderImage, checkDecodedSize, type PrepareOptions, type PreparedImage } from './prepare.ts';
