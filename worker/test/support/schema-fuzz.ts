import { Validator } from "@cfworker/json-schema";
import fc from "fast-check";

/** The parts of a JSON Schema (as the OpenAPI document writes them) that inputs are generated from. */
export interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  examples?: unknown[];
  default?: unknown;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

export interface Operation {
  parameters?: { name: string; in: "path" | "query"; required: boolean; schema: Schema }[];
  requestBody?: { content: { "application/json": { schema: Schema } } };
  responses: Record<string, { content?: { "application/json"?: { schema: Schema } } }>;
}

/** Values that are never what a field wants, whatever it wants: the malformed half of every input. */
const wrongValue = fc.oneof(
  fc.constantFrom(null, true, 0, -1, 1e308, "", " ", "\u0000", "é🙂", [], {}, [null], { "": 1 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/**
 * Generates values for a schema of the OpenAPI document: mostly what it
 * describes, at and just past its bounds, and now and then anything at all.
 * `strings` supplies values for some fields by name (origins that must stay on
 * 127.0.0.1, names and versions that exist).
 */
export class SchemaArbitraries {
  readonly #doc: OpenApiDocument;
  readonly #strings: Record<string, fc.Arbitrary<string>>;

  constructor(doc: OpenApiDocument, strings: Record<string, fc.Arbitrary<string>> = {}) {
    this.#doc = doc;
    this.#strings = strings;
  }

  of(schema: Schema, field = "", depth = 0): fc.Arbitrary<unknown> {
    return fc.oneof(
      { weight: 19, arbitrary: this.#described(schema, field, depth) },
      { weight: 1, arbitrary: wrongValue },
    );
  }

  /** Only values the schema describes (as far as its keywords tell), to reach what a route does past validation. */
  valid(schema: Schema, field = "", depth = 0): fc.Arbitrary<unknown> {
    if (schema.$ref) return this.valid(this.#resolve(schema.$ref), field, depth);
    const named = this.#strings[field];
    if (named && (schema.type === "string" || schema.anyOf)) return named;
    const known = [...(schema.examples ?? []), ...(schema.default !== undefined ? [schema.default] : [])];
    if (known.length > 0) return fc.constantFrom(...known);
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives) return fc.oneof(...alternatives.map((s) => this.valid(s, field, depth)));
    if (schema.enum) return fc.constantFrom(...schema.enum);
    if (schema.type === "object" && depth < 4) {
      const entries = Object.entries(schema.properties ?? {});
      return fc.record(Object.fromEntries(entries.map(([key, s]) => [key, this.valid(s, key, depth + 1)])), {
        requiredKeys: schema.required ?? [],
      });
    }
    if (schema.type === "array" && schema.items) {
      const item = this.valid(schema.items, field, depth + 1);
      return fc.array(item, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
    }
    if (schema.type === "number" || schema.type === "integer") {
      return fc.integer({ min: Math.ceil(schema.minimum ?? 0), max: Math.floor(schema.maximum ?? 100) });
    }
    if (schema.type === "boolean") return fc.boolean();
    if (schema.type === "string" && schema.pattern) return this.#string(schema, field);
    return this.#generated(schema, field, depth);
  }

  #described(schema: Schema, field: string, depth: number): fc.Arbitrary<unknown> {
    if (schema.$ref) return this.of(this.#resolve(schema.$ref), field, depth);
    // The document's own examples and defaults are valid: lean on them, so that routes get past validation.
    const known = [...(schema.examples ?? []), ...(schema.default !== undefined ? [schema.default] : [])];
    if (known.length > 0) {
      return fc.oneof(
        { weight: 1, arbitrary: fc.constantFrom(...known) },
        { weight: 1, arbitrary: this.#generated(schema, field, depth) },
      );
    }
    return this.#generated(schema, field, depth);
  }

  #generated(schema: Schema, field: string, depth: number): fc.Arbitrary<unknown> {
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives) return fc.oneof(...alternatives.map((s) => this.#described(s, field, depth)));
    if (schema.enum) return fc.constantFrom(...schema.enum);
    switch (schema.type) {
      case "object":
        return this.#object(schema, depth);
      case "array": {
        const min = schema.minItems ?? 0;
        const max = Math.min((schema.maxItems ?? 6) + 1, 12);
        const items = schema.items ? this.of(schema.items, field, depth + 1) : wrongValue;
        return fc.array(items, { minLength: Math.max(0, min - 1), maxLength: Math.max(max, min) });
      }
      case "string":
        return this.#string(schema, field);
      case "number":
      case "integer":
        return this.#number(schema);
      case "boolean":
        return fc.boolean();
      case "null":
        return fc.constant(null);
      default:
        return wrongValue;
    }
  }

  #object(schema: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
    if (depth > 4) return fc.constant({});
    const entries = Object.entries(schema.properties ?? {});
    const record = fc.record(Object.fromEntries(entries.map(([key, s]) => [key, this.of(s, key, depth + 1)])), {
      requiredKeys: [],
    });
    // Sometimes a field the route does not know, or a known one misspelt.
    const extra = fc.option(
      fc.tuple(
        fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...entries.map(([k]) => `${k}s`), "x")),
        wrongValue,
      ),
      { freq: 12 },
    );
    return fc.tuple(record, extra).map(([value, more]) => (more ? { ...value, [more[0]]: more[1] } : value));
  }

  #string(schema: Schema, field: string): fc.Arbitrary<string> {
    const named = this.#strings[field];
    const max = schema.maxLength ?? 64;
    const options: fc.Arbitrary<string>[] = [
      fc.string({ maxLength: Math.min(max + 2, 80) }),
      fc.constant("a".repeat(max + 1)),
      fc.constant("a".repeat(max)),
    ];
    if (named) options.push(named, named);
    if (schema.examples) options.push(fc.constantFrom(...schema.examples.map(String)));
    if (schema.pattern) {
      try {
        options.push(fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= max));
      } catch {
        // A pattern fast-check cannot generate from: the other options still cover the field.
      }
    }
    return fc.oneof(...options);
  }

  #number(schema: Schema): fc.Arbitrary<number> {
    const bounds = [schema.minimum, schema.maximum].filter((n): n is number => n !== undefined);
    const [low, high] = [schema.minimum ?? -1000, schema.maximum ?? 1000];
    return fc.oneof(
      fc.integer({ min: Math.ceil(low), max: Math.floor(high) }),
      fc.constantFrom(0, -0, 1, -1, 0.5, 0.001, 33.333, 1e21, -1e21, Number.MAX_SAFE_INTEGER + 2),
      fc.constantFrom(...bounds.flatMap((n) => [n, n - 1, n + 1, n - 0.01, n + 0.01]), 0),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
  }

  #resolve(ref: string): Schema {
    const name = ref.replace("#/components/schemas/", "");
    const schema = this.#doc.components.schemas[name];
    if (!schema) throw new Error(`the document refers to ${ref}, which it does not define`);
    return schema;
  }
}

/**
 * Checks answers against the document's schemas with an independent
 * validator (not the valibot schemas the routes are written with).
 */
export class ResponseValidator {
  readonly #defs: Record<string, unknown>;
  readonly #cache = new Map<Schema, Validator>();

  constructor(doc: OpenApiDocument) {
    this.#defs = JSON.parse(JSON.stringify(doc.components.schemas).replaceAll("#/components/schemas/", "#/$defs/"));
  }

  /** The errors of `body` against `schema`, in words; empty when it matches. */
  check(schema: Schema, body: unknown): string[] {
    let validator = this.#cache.get(schema);
    if (!validator) {
      const root = JSON.parse(JSON.stringify(schema).replaceAll("#/components/schemas/", "#/$defs/"));
      validator = new Validator({ ...root, $defs: this.#defs }, "2020-12", false);
      this.#cache.set(schema, validator);
    }
    const { valid, errors } = validator.validate(body);
    return valid ? [] : errors.map((e) => `${e.instanceLocation}: ${e.error}`);
  }
}

/** The seed of a fuzz run: FUZZ_SEED=<n> replays one, FUZZ_SEED=random explores; a fixed one by default. */
export function fuzzSeed(given: string | undefined, fixed: number): number {
  if (given === "random") return Math.floor(Math.random() * 2 ** 31);
  if (given && /^-?\d+$/.test(given)) return Number(given);
  return fixed;
}
