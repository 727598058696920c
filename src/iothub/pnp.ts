// IoT Plug and Play conventions (the IoT Plug and Play conventions document; az_iot_pnp in the Azure SDK for
// Embedded C): component commands are named "{component}*{command}"; a writable property is acknowledged in the
// reported properties as {value, ac, av, ad}; a component's properties are an object marked {"__t": "c"}.

/** The separator of a component command's name: "thermostat1*getMaxMinReport". */
export var PNP_COMMAND_SEP = "*";

/** [component, command] of a method name; the component is "" for a command of the default component. */
export function pnpCommand(name: string): [string, string] {
  var i = name.indexOf(PNP_COMMAND_SEP);
  return i < 0 ? ["", name] : [name.substring(0, i), name.substring(i + 1)];
}

/**
 * A writable property's acknowledgement: the value the device now has, an HTTP-like status (200 applied; 203 for a
 * value the device set itself, with version 0), the desired $version it answers, and an optional description.
 */
export function pnpAck(value: unknown, status: number, version: number, description?: string): { value: unknown; ac: number; av: number; ad?: string } {
  var a: { value: unknown; ac: number; av: number; ad?: string } = { value: value, ac: status, av: version };
  if (description != null) a.ad = description;
  return a;
}

/**
 * A reported patch with `props` (name -> value): as they are for the default component (`component` ""), inside
 * the component's object marked {"__t": "c"} otherwise. For device.patchReported.
 */
export function pnpReported(component: string, props: { [name: string]: unknown }): { [name: string]: unknown } {
  var c: { [name: string]: unknown } = {}, k: string, r: { [name: string]: unknown } = {};
  if (!component) return props;
  c.__t = "c";
  for (k in props) c[k] = props[k];
  r[component] = c;
  return r;
}

/** A DPS registration payload with the model id: the custom payload's fields (when it is an object) and `modelId`. */
export function pnpPayload(payload: unknown, modelId: string): { [name: string]: unknown } {
  var r: { [name: string]: unknown } = {}, k: string;
  if (payload && typeof payload == "object") for (k in payload as any) r[k] = (payload as any)[k];
  r.modelId = modelId;
  return r;
}
