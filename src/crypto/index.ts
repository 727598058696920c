// Portable crypto for the platforms without a native one; a target may swap in its own.
export { sha256 } from './sha256';
export { sha1 } from './sha1';
export { hmacSha256 } from './hmac';
export { base64Encode, base64Decode } from './base64';
