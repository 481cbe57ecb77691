import { z } from "@hono/zod-openapi";
import { SERVICE_STATUSES } from "../db/schema.ts";
import { originUrl, serviceName, serviceVersion } from "../registry/validation.ts";

export const ServiceRecordSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    origin: z.string(),
    main: z.boolean(),
    status: z.enum(SERVICE_STATUSES),
    statusSince: z.string().openapi({ format: "date-time" }),
    createdAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("ServiceRecord");

export const ServiceListSchema = z.object({ services: z.array(ServiceRecordSchema) }).openapi("ServiceList");
export const KilledListSchema = z.object({ killed: z.array(ServiceRecordSchema) }).openapi("KilledList");

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      field: z.string().optional(),
    }),
  })
  .openapi("Error");

export const DeployBodySchema = z
  .object({
    name: serviceName.openapi({ example: "hello" }),
    version: serviceVersion.openapi({ example: "1.0.0" }),
    origin: originUrl.openapi({ example: "https://hello-v1.example.com", type: "string", format: "uri" }),
    check: z
      .boolean({ error: "must be true or false" })
      .default(true)
      .openapi({ description: "Refuse the deploy unless the origin answers (any HTTP status)" }),
  })
  .openapi("DeployRequest");

export const AssignBodySchema = z
  .object({ version: serviceVersion.openapi({ example: "2.0.0" }) })
  .openapi("AssignRequest");

export const NameParamSchema = z.object({ name: serviceName.openapi({ param: { name: "name", in: "path" } }) });
export const VersionParamSchema = z.object({
  name: serviceName.openapi({ param: { name: "name", in: "path" } }),
  version: serviceVersion.openapi({ param: { name: "version", in: "path" } }),
});
export const ListQuerySchema = z.object({
  name: serviceName.optional().openapi({ param: { name: "name", in: "query" } }),
});
