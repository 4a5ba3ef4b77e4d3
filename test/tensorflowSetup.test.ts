/** The pieces of `setup-backend tensorflow` that run without building anything: the ZIP reader, wheel search, errors. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { extractZipEntry, listZip, readZipEntry, ZipError } from '../src/backend/zipArchive';
import { findWheels, setupTensorflowBackend, SetupError } from '../src/backend/tensorflowSetup';

/** A ZIP archive of the given files: even-indexed ones deflated, odd ones stored. */
function makeZip(files: [string, Buffer][]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  files.forEach(([name, data], i) => {
    const method = i % 2 === 0 ? 8 : 0;
    const body = method === 8 ? zlib.deflateRawSync(data) : data;
    const nameBuf = Buffer.from(name);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(method, 8);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nameBuf.length, 26);
    locals.push(lh, nameBuf, body);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(method, 10);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nameBuf.length, 28);
    ch.writeUInt32LE(offset, 42);
    central.push(ch, nameBuf);
    offset += 30 + nameBuf.length + body.length;
  });
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe('zipArchive', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maai-zip-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const big = Buffer.from(Array.from({ length: 300000 }, (_, i) => (i * 7919) % 251));
  const files: [string, Buffer][] = [
    ['tensorflow/include/tensorflow/c/c_api.h', Buffer.from('#include "tensorflow/c/tf_status.h"\n')],
    ['tensorflow/libtensorflow_cc.so.2', big],
    ['empty.txt', Buffer.alloc(0)],
  ];
  const file = path.join(dir, 'a.whl');
  fs.writeFileSync(file, makeZip(files));

  it('lists, reads and extracts deflated, stored and empty entries', async () => {
    const entries = listZip(file);
    expect(entries.map((e) => [e.name, e.size])).toEqual(files.map(([n, d]) => [n, d.length]));
    for (const [i, e] of entries.entries()) {
      expect(readZipEntry(file, e).equals(files[i][1])).toBe(true);
      const dest = path.join(dir, `out${i}`);
      await extractZipEntry(file, e, dest);
      expect(fs.readFileSync(dest).equals(files[i][1])).toBe(true);
    }
  });

  it('rejects a file that is not a ZIP and a truncated one', () => {
    const bad = path.join(dir, 'bad.whl');
    fs.writeFileSync(bad, Buffer.from('not a zip at all'));
    expect(() => listZip(bad)).toThrow(ZipError);
    const whole = fs.readFileSync(file);
    fs.writeFileSync(bad, Buffer.concat([whole.subarray(0, 100), whole.subarray(whole.length - 22)]));
    expect(() => listZip(bad)).toThrow(/beyond the end|corrupt/);
  });

  it('reports an entry whose data does not inflate to its size', async () => {
    const entries = listZip(file);
    const wrong = { ...entries[1], size: entries[1].size + 1 };
    await expect(extractZipEntry(file, wrong, path.join(dir, 'x'))).rejects.toThrow(/expected 300001/);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'x.part'))).toBe(false);
  });
});

describe('setup-backend: wheels and errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maai-wheels-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds TensorFlow wheels, newest first, CUDA-capable ones only for --gpu', () => {
    const names = [
      'tensorflow_cpu-2.15.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
      'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
      'tensorflow-2.20.0-cp312-cp312-manylinux_2_27_x86_64.whl',
      'tensorflow_cpu-2.21.0-cp311-cp311-macosx_12_0_arm64.whl',
      'tensorboard-2.21.0-py3-none-any.whl',
    ];
    fs.mkdirSync(path.join(dir, 'sub'));
    for (const n of names) fs.writeFileSync(path.join(dir, n === names[2] ? 'sub' : '', n), '');
    expect(findWheels(false, [dir]).map((f) => path.basename(f))).toEqual([names[1], names[2], names[0]]);
    expect(findWheels(true, [dir]).map((f) => path.basename(f))).toEqual([names[2]]);
    expect(findWheels(false, [path.join(dir, 'missing')])).toEqual([]);
  });

  it('names a missing or wrong --wheel', async () => {
    await expect(setupTensorflowBackend({ wheel: path.join(dir, 'nope.whl') })).rejects.toThrow(/nope\.whl: file not found/);
    const txt = path.join(dir, 'x.txt');
    fs.writeFileSync(txt, '');
    await expect(setupTensorflowBackend({ wheel: txt })).rejects.toThrow(SetupError);
  });

  it('names a node_modules without tfjs-core', async () => {
    await expect(setupTensorflowBackend({ nodeModules: dir })).rejects.toThrow(/tfjs-core is not installed: run `npm ci`/);
  });
});
