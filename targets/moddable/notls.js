// Stands in for "embedded:io/socket/tcp/tls" in apps built with manifest_classic.json: their TLS is the
// classic SecureSocket (modules/crypt/tls.json), whose "ssl/session" cannot share an app with the one the
// ECMA-419 TLS socket needs. The tinyhub bundles import the ECMA-419 sockets for their default transport;
// with this manifest pass `transport: moddableClassicTransport()` (from "tinyhub/classic") instead.
export default class TLSSocket {
	constructor() {
		throw new Error("tinyhub: no ECMA-419 TLS socket in this app (manifest_classic.json): use moddableClassicTransport()");
	}
}
