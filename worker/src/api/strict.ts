import { AppError } from "../errors.ts";
import { nearest } from "../registry/edit-distance.ts";

/**
 * Bodies are checked strictly: a field the schema does not know is refused by
 * name, with the nearest known field, instead of being dropped (`noisePercnt`
 * would otherwise leave `noisePercent` at its old value and answer 200). It
 * reads the route's own valibot schema, so every field any schema gains is
 * covered without a second list.
 */

/** The parts of a valibot schema this walk reads. */
interface SchemaShape {
  type: string;
  entries?: Record<string, SchemaShape>;
  wrapped?: SchemaShape;
  item?: SchemaShape;
  options?: SchemaShape[];
  key?: string | SchemaShape;
  value?: SchemaShape;
  literal?: unknown;
}

const WRAPPERS = new Set(["optional", "nullable", "nullish", "exact_optional", "non_optional", "non_nullable"]);

function unwrap(schema: SchemaShape): SchemaShape {
  let inner = schema;
  while (WRAPPERS.has(inner.type) && inner.wrapped) inner = inner.wrapped;
  return inner;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Throws 422 `unknown_field` for the first field of `input` that `schema` does not describe. */
export function refuseUnknownFields(schema: unknown, input: unknown, path: readonly (string | number)[] = []): void {
  const shape = unwrap(schema as SchemaShape);
  if (shape.type === "object" && shape.entries && isRecord(input)) {
    const entries = shape.entries;
    for (const key of Object.keys(input)) {
      const entry = entries[key];
      if (!entry) throw unknownField([...path, key], Object.keys(entries));
      refuseUnknownFields(entry, input[key], [...path, key]);
    }
  } else if (shape.type === "array" && shape.item && Array.isArray(input)) {
    for (const [index, item] of input.entries()) refuseUnknownFields(shape.item, item, [...path, index]);
  } else if (shape.type === "variant" && typeof shape.key === "string" && shape.options && isRecord(input)) {
    const key = shape.key;
    const option = shape.options.find((candidate) => {
      const discriminator = candidate.entries?.[key];
      return discriminator !== undefined && unwrap(discriminator).literal === input[key];
    });
    if (option) refuseUnknownFields(option, input, path);
  } else if (shape.type === "record" && shape.value && isRecord(input)) {
    for (const [key, value] of Object.entries(input)) refuseUnknownFields(shape.value, value, [...path, key]);
  }
}

function unknownField(path: readonly (string | number)[], known: readonly string[]): AppError {
  const field = path.join(".");
  const typo = String(path.at(-1));
  const within = path.length > 1 ? `of ${path.slice(0, -1).join(".")}` : "of this request";
  const guess = nearest(typo, known) ?? nearest(typo.toLowerCase(), known);
  const hint = guess ? `did you mean ${guess}?` : `known fields: ${known.join(", ")}`;
  return new AppError(422, "unknown_field", `${field} is not a field ${within}: ${hint}`, field);
}
