/** Why a picture was refused: more pixels than allowed, or bytes that do not decode as what they claim. */
export type ImageErrorReason = 'too_large' | 'unreadable';

/** A picture the decoders refuse; `size` is the frame that broke the pixel cap. */
export class ImageError extends Error {
  constructor(
    readonly reason: ImageErrorReason,
    message: string,
    readonly size?: { width: number; height: number },
  ) {
    super(`poster: ${message}`);
    this.name = 'ImageError';
  }
}
