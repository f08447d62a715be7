import { filetypeinfo } from 'magic-bytes.js';
const samples = {
  png: [0x89,0x50,0x4e,0x47,0x0d,0x0a,0x1a,0x0a,0,0,0,13,0x49,0x48,0x44,0x52],
  jpg: [0xff,0xd8,0xff,0xe0,0,16,0x4a,0x46,0x49,0x46,0],
  gif: [...Buffer.from('GIF89a'),1,0,1,0],
  webp: [...Buffer.from('RIFF'),0,0,0,0,...Buffer.from('WEBPVP8 ')],
  pdf: [...Buffer.from('%PDF-1.7\n')],
  zip: [0x50,0x4b,0x03,0x04,20,0,0,0,8,0],
  cfb: [0xd0,0xcf,0x11,0xe0,0xa1,0xb1,0x1a,0xe1,0,0],
  html: [...Buffer.from('<!DOCTYPE html><html>')],
  svg: [...Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">')],
  text: [...Buffer.from('hello world\n')],
};
for (const [k, v] of Object.entries(samples)) console.log(k, JSON.stringify(filetypeinfo(new Uint8Array(v)).map(g => g.typename)));
