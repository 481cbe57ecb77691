// nginx with its `mirror` module, the usual alternative, configured to do what the
// gateway does: proxy to main and copy each request to the shadows.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { processTree, type RuntimeProcess, readCmdline } from "./proc-stats.ts";
import { type Started, startProcess, waitForHttp } from "./processes.ts";

export const NGINX_INSTALL_HINT = "apt-get install nginx-light (Debian/Ubuntu) to add the nginx scenarios";

/** One location prefix per shadow set, e.g. `/three/` mirrors to three shadows. */
export interface NginxRoute {
  prefix: string;
  shadows: string[];
}

export interface NginxLayout {
  port: number;
  prefixDir: string;
  main: string;
  routes: NginxRoute[];
}

const host = (url: string) => new URL(url).host;

/** nginx.conf for the layout: keep-alive upstreams, one internal mirror location per shadow origin. */
export function nginxConfig(layout: NginxLayout): string {
  const shadowOrigins = [...new Set(layout.routes.flatMap((r) => r.shadows))];
  const upstreamName = (origin: string) => `shadow_${shadowOrigins.indexOf(origin)}`;
  const upstream = (name: string, origin: string) => `  upstream ${name} { server ${host(origin)}; keepalive 64; }`;
  const locations = layout.routes.map((route) => {
    const mirrors = route.shadows.map((s) => `      mirror /_mirror/${upstreamName(s)};`).join("\n");
    return `    location ${route.prefix} {\n${mirrors}${mirrors ? "\n" : ""}      proxy_pass http://main;\n    }`;
  });
  const mirrorLocations = shadowOrigins.map(
    (origin) =>
      `    location = /_mirror/${upstreamName(origin)} {\n      internal;\n      proxy_pass http://${upstreamName(origin)}$request_uri;\n    }`,
  );
  return `# Written by bench/lib/nginx.ts for one benchmark run.
worker_processes 1;
daemon off;
pid ${join(layout.prefixDir, "nginx.pid")};
error_log ${join(layout.prefixDir, "error.log")} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(layout.prefixDir, "body")};
  proxy_temp_path ${join(layout.prefixDir, "proxy")};
  client_body_buffer_size 1m;
  client_max_body_size 2m;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_read_timeout 30s;
${upstream("main", layout.main)}
${shadowOrigins.map((origin) => upstream(upstreamName(origin), origin)).join("\n")}
  server {
    listen 127.0.0.1:${layout.port};
${[...locations, ...mirrorLocations].join("\n")}
  }
}
`;
}

export function nginxVersion(): Promise<string | undefined> {
  return new Promise((resolve) =>
    execFile("nginx", ["-v"], (error, _stdout, stderr) =>
      resolve(error ? undefined : stderr.trim().replace(/^nginx version: /, "")),
    ),
  );
}

export interface NginxRuntime {
  url: string;
  process: Started;
  processes(): RuntimeProcess[];
}

export async function startNginx(layout: NginxLayout, logDir: string): Promise<NginxRuntime> {
  mkdirSync(layout.prefixDir, { recursive: true });
  const configPath = join(layout.prefixDir, "nginx.conf");
  writeFileSync(configPath, nginxConfig(layout));
  const started = startProcess(
    "nginx",
    "nginx",
    ["-p", layout.prefixDir, "-e", join(layout.prefixDir, "error.log"), "-c", configPath],
    { logDir },
  );
  const url = `http://127.0.0.1:${layout.port}`;
  await waitForHttp(`${url}${layout.routes[0]?.prefix ?? "/"}`, started, 10_000, {}, (r) => r.ok);
  const processes = () =>
    processTree(started.pid).map(({ pid }) => ({
      pid,
      label: readCmdline(pid).includes("worker process") ? "nginx-worker" : "nginx-master",
      counted: true,
    }));
  return { url, process: started, processes };
}
