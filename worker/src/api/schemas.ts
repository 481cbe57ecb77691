import * as v from "valibot";
import { SERVICE_STATUSES } from "../db/schema.ts";
import type { ErrorBody } from "../errors.ts";
import { originUrl, serviceName, serviceVersion } from "../registry/validation.ts";

// One source for validation, the OpenAPI document and the CLI's types.
// Each message completes a sentence that starts with the field's name.

const dateTime = v.pipe(v.string(), v.metadata({ format: "date-time" }));

export const ServiceRecordSchema = v.object({
  name: v.string(),
  version: v.string(),
  origin: v.string(),
  main: v.boolean(),
  status: v.picklist(SERVICE_STATUSES),
  statusSince: dateTime,
  createdAt: dateTime,
  mirrorPercent: v.pipe(v.number(), v.description("Share of requests (0–100) this version receives while a shadow")),
  mirrorMethods: v.pipe(
    v.nullable(v.array(v.string())),
    v.description("Methods this version receives while a shadow; null for every method"),
  ),
});

/** A version as the admin API and the CLI show it. */
export type ServiceRecord = v.InferOutput<typeof ServiceRecordSchema>;

export const ServiceListSchema = v.object({ services: v.array(ServiceRecordSchema) });
export const KilledListSchema = v.object({ killed: v.array(ServiceRecordSchema) });
export const AssignResultSchema = v.object({
  changed: v.pipe(v.boolean(), v.description("false when the version already was main: nothing was changed")),
  services: v.array(ServiceRecordSchema),
});
export type AssignResult = v.InferOutput<typeof AssignResultSchema>;

export const ErrorSchema = v.object({
  error: v.object({ code: v.string(), message: v.string(), field: v.optional(v.string()) }),
}) satisfies v.GenericSchema<ErrorBody>;

const BODY_MUST_BE_OBJECT = "must be a JSON object";

export const DeployBodySchema = v.object(
  {
    name: v.pipe(serviceName, v.metadata({ examples: ["hello"] })),
    version: v.pipe(serviceVersion, v.metadata({ examples: ["1.0.0"] })),
    origin: originUrl,
    check: v.optional(
      v.pipe(
        v.boolean("must be true or false"),
        v.description("Refuse the deploy unless the origin answers (any HTTP status)"),
      ),
      true,
    ),
  },
  BODY_MUST_BE_OBJECT,
);

export const AssignBodySchema = v.object(
  { version: v.pipe(serviceVersion, v.metadata({ examples: ["2.0.0"] })) },
  BODY_MUST_BE_OBJECT,
);

export const NameParamSchema = v.object({ name: serviceName });
export const VersionParamSchema = v.object({ name: serviceName, version: serviceVersion });
export const ListQuerySchema = v.object({ name: v.optional(serviceName) });

/** The named schemas of the OpenAPI document's components. */
export const NAMED_SCHEMAS = {
  ServiceRecord: ServiceRecordSchema,
  ServiceList: ServiceListSchema,
  KilledList: KilledListSchema,
  AssignResult: AssignResultSchema,
  Error: ErrorSchema,
  DeployRequest: DeployBodySchema,
  AssignRequest: AssignBodySchema,
};
