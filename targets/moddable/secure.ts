// TlsOptions as the `secure` dictionary of Moddable's TLS (modules/crypt/ssl), shared by the ECMA-419
// TLSSocket and the classic SecureSocket. Moddable takes certificates and keys in DER (binary: an
// ArrayBuffer, a typed array, or a `new Resource("ca.der")`), not PEM text, and the key as PKCS#8.
import type { SecureOptions } from "embedded:io/socket/tcp/tls";
import type { TlsOptions } from "../../src/types";

/**
 * ca -> certificate (the one CA trusted; none: the certificate store in the app's resources),
 * cert -> clientCertificates, key -> clientKey, servername -> serverName (else the host name),
 * rejectUnauthorized: false -> verify: false. Only the keys given are set: Moddable's session takes a `serverName`
 * key, even undefined, over the host name, and it and the TLS socket copy the dictionary, each key a slot.
 */
export function secureOptions(tls: TlsOptions): SecureOptions {
  const s: SecureOptions = {};
  if (tls.ca) s.certificate = tls.ca as DER;
  if (tls.cert) s.clientCertificates = [tls.cert as DER];
  if (tls.key) s.clientKey = tls.key as DER;
  if (tls.rejectUnauthorized === false) s.verify = false;
  if (tls.servername) s.serverName = tls.servername;
  return s;
}
