import protobuf from 'protobufjs';

/**
 * TypeScript scalar types of protobuf scalars as the connector's gRPC loader decodes them
 * (`longs: String`, `bytes: Buffer`): 64-bit integers are decimal strings, bytes are Buffers.
 */
const SCALARS: Readonly<Record<string, string>> = {
  double: 'number',
  float: 'number',
  int32: 'number',
  uint32: 'number',
  sint32: 'number',
  fixed32: 'number',
  sfixed32: 'number',
  int64: 'string',
  uint64: 'string',
  sint64: 'string',
  fixed64: 'string',
  sfixed64: 'string',
  bool: 'boolean',
  string: 'string',
  bytes: 'Buffer',
};

/** The package that the TypeScript names leave out (its types are the protocol's own). */
const HOME_PACKAGE = 'spark.connect';

function pascal(segment: string): string {
  return segment.charAt(0).toUpperCase() + segment.slice(1);
}

/**
 * The TypeScript name of a message or enum: nested names joined by `_`
 * (`spark.connect.ExecutePlanResponse.ArrowBatch` → `ExecutePlanResponse_ArrowBatch`), and types of
 * other packages prefixed with their package (`google.rpc.Status` → `GoogleRpcStatus`).
 */
export function tsTypeName(type: protobuf.Type | protobuf.Enum): string {
  const nesting: string[] = [];
  const pkg: string[] = [];
  let at: protobuf.ReflectionObject | null = type;
  while (at && !(at instanceof protobuf.Root)) {
    if (at instanceof protobuf.Type || at instanceof protobuf.Enum) nesting.unshift(at.name);
    else pkg.unshift(at.name);
    at = at.parent;
  }
  const prefix = pkg.join('.') === HOME_PACKAGE ? '' : pkg.map(pascal).join('');
  return prefix + nesting.join('_');
}

/** A proto comment as TSDoc, indented; nothing when there is no comment. */
function doc(comment: string | null | undefined, indent: string): string {
  const text = (comment ?? '').trim();
  if (!text) return '';
  const lines = text.split('\n').map((l) => l.replace(/\s+$/, '').replace(/\*\//g, '*\\/'));
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => (l ? `${indent} * ${l}` : `${indent} *`)).join('\n')}\n${indent} */\n`;
}

function fieldType(field: protobuf.Field): string {
  let element: string;
  const resolved = field.resolvedType;
  if (resolved) element = tsTypeName(resolved);
  else {
    const scalar = SCALARS[field.type];
    if (!scalar) throw new Error(`${field.fullName}: unresolved type ${field.type}`);
    element = scalar;
  }
  if (field instanceof protobuf.MapField) return `Record<string, ${element}>`;
  return field.repeated ? `${element}[]` : element;
}

/** Every message and enum under `ns`, depth first. */
function collect(ns: protobuf.NamespaceBase, out: (protobuf.Type | protobuf.Enum)[]): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) out.push(nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) collect(nested, out);
  }
}

function collectServices(ns: protobuf.NamespaceBase, out: protobuf.Service[]): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Service) out.push(nested);
    else if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) collectServices(nested, out);
  }
}

function emitMessage(type: protobuf.Type): string {
  const name = tsTypeName(type);
  let out = doc(type.comment, '');
  const members: string[] = [];
  for (const field of type.fieldsArray) {
    members.push(`${doc(field.comment, '  ')}  ${field.name}?: ${fieldType(field)};\n`);
  }
  for (const oneof of type.oneofsArray) {
    if (type.fields[oneof.name]) throw new Error(`${type.fullName}: oneof ${oneof.name} has the name of a field`);
    const names = oneof.fieldsArray.map((f) => `'${f.name}'`).join(' | ');
    // The loader (oneofs: true) names the field that is set in a virtual field named after the oneof.
    const what = oneof.name.startsWith('_')
      ? `Set when \`${oneof.fieldsArray[0]?.name}\` is present (proto3 \`optional\`).`
      : 'Which field of the oneof is set.';
    members.push(`  /** ${what} */\n  ${oneof.name}?: ${names || 'never'};\n`);
  }
  out += members.length > 0 ? `export interface ${name} {\n${members.join('')}}\n` : `export type ${name} = Record<string, never>;\n`;
  return out;
}

function emitEnum(type: protobuf.Enum): string {
  const name = tsTypeName(type);
  const values = Object.keys(type.values);
  const valueDocs = values.map((v) => [v, (type.comments[v] ?? '').trim().replace(/\s*\n\s*/g, ' ')] as const).filter(([, c]) => c);
  let comment = (type.comment ?? '').trim();
  if (valueDocs.length > 0) comment += `${comment ? '\n\n' : ''}${valueDocs.map(([v, c]) => `- \`${v}\`: ${c}`).join('\n')}`;
  return `${doc(comment, '')}export type ${name} = ${values.map((v) => `'${v}'`).join(' | ')};\n`;
}

function emitService(service: protobuf.Service): string {
  const lines = service.methodsArray.map((method) => {
    const request = tsTypeName(method.resolvedRequestType as protobuf.Type);
    const response = tsTypeName(method.resolvedResponseType as protobuf.Type);
    return `${doc(method.comment, '  ')}  ${method.name}: { request: ${request}; response: ${response}; requestStream: ${Boolean(method.requestStream)}; responseStream: ${Boolean(method.responseStream)} };\n`;
  });
  const header = `The methods of \`${service.fullName.slice(1)}\`: request and response types, and which side streams.`;
  return `${doc(`${header}${service.comment ? `\n\n${service.comment.trim()}` : ''}`, '')}export interface ${service.name}Methods {\n${lines.join('')}}\n`;
}

/**
 * TypeScript declarations of every message, enum and service of a resolved protobuf root, in the
 * shape the gRPC loader decodes them with `keepCase`, `longs: String`, `enums: String`,
 * `bytes: Buffer`, `defaults: false` and `oneofs: true`: interfaces with snake_case optional
 * fields, string-literal unions for enums, a virtual field per oneof naming the member that is set,
 * and one `<Service>Methods` map per service. Output is sorted by full name, so it is the same for
 * the same root.
 */
export function emitProtocolTypes(root: protobuf.Root): string {
  const types: (protobuf.Type | protobuf.Enum)[] = [];
  collect(root, types);
  const services: protobuf.Service[] = [];
  collectServices(root, services);
  const seen = new Map<string, string>();
  for (const t of types) {
    const name = tsTypeName(t);
    const clash = seen.get(name);
    if (clash) throw new Error(`${t.fullName} and ${clash} both map to the TypeScript name ${name}`);
    seen.set(name, t.fullName);
  }
  const byName = (a: { fullName: string }, b: { fullName: string }) => (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0);
  const blocks = [...services.sort(byName).map(emitService), ...types.sort(byName).map((t) => (t instanceof protobuf.Type ? emitMessage(t) : emitEnum(t)))];
  return blocks.join('\n');
}
