// TlsOptions as the `secure` dictionary of Moddable's TLS (modules/crypt/ssl), shared by the ECMA-419
// TLSSocket and the classic SecureSocket. Moddable takes certificates and keys in DER (binary: an
// ArrayBuffer, a typed array, or a `new Resource("ca.der")`), not PEM text, and the key as PKCS#8.
import type { SecureOptions } from "embedded:io/socket/tcp/tls";
import type { TlsOptions } from "../../src/types";

/**
 * ca -> certificate (the one CA trusted; none: the certificate store in the app's resources),
 * cert -> clientCertificates, key -> clientKey, servername -> serverName (else the host name),
 * rejectUnauthorized: false -> verify: false. Keys left undefined are what Moddable does without them.
 */
export function secureOptions(tls: TlsOptions): SecureOptions {
  const s: SecureOptions = {
    certificate: tls.ca as DER,
    clientCertificates: tls.cert ? [tls.cert as DER] : undefined,
    clientKey: tls.key as DER,
    verify: tls.rejectUnauthorized !== false
  };
  // only when given: Moddable's session takes a `serverName` key, even undefined, over the host name
  if (tls.servername) s.serverName = tls.servername;
  return s;
}
