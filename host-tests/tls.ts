// Certificates for the TLS suites, made fresh by openssl for each run: a CA, a server certificate for
// 127.0.0.1 signed by it, and a client certificate for mutual TLS.

import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";

export interface Certificates {
  directory: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

function openssl(directory: string, args: string[]): void {
  const result = spawnSync("openssl", args, { cwd: directory, encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`openssl ${args[0]} failed (is openssl installed? apt-get install openssl): ${result.stderr}`);
  }
}

function signed(directory: string, name: string, subject: string, extensions: string): void {
  openssl(directory, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
  fs.writeFileSync(path.join(directory, `${name}.ext`), extensions);
  openssl(directory, ["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
    "-out", `${name}.crt`, "-days", "2", "-sha256", "-extfile", `${name}.ext`]);
}

export function makeCertificates(directory: string): Certificates {
  openssl(directory, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
    "-days", "2", "-subj", "/CN=starling test CA"]);
  signed(directory, "server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  signed(directory, "client", "/CN=starling-device", "extendedKeyUsage=clientAuth\n");
  const file = (name: string) => path.join(directory, name);
  return {
    directory,
    ca: file("ca.crt"),
    serverCert: file("server.crt"),
    serverKey: file("server.key"),
    clientCert: file("client.crt"),
    clientKey: file("client.key"),
  };
}
