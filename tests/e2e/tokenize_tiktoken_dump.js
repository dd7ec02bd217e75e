// Reference side of the tiktoken identity test (tokenize_tiktoken_identity.sh):
//   node tokenize_tiktoken_dump.js NPM_DIR ENCODING FILE [--whole|--jsonl] [--allow-special]
// Reads FILE as bytes, splits it on "\n" bytes (the newline is not encoded), decodes each
// line as UTF-8 with U+FFFD replacement (WHATWG, as quern's repair does) and writes the
// npm tiktoken ids of each line, space separated, one line per input line. --whole
// encodes the whole file as one text instead; --jsonl encodes the "text" field of each
// non-blank line (lines that are not JSON are skipped, as quern does). Special-token text is ordinary text unless --allow-special.
const { createRequire } = require('module');
const fs = require('fs');
const [base, encName, file, ...flags] = process.argv.slice(2);
const req = createRequire(base + '/package.json');
const { get_encoding } = req('tiktoken');
const enc = get_encoding(encName);
const buf = fs.readFileSync(file);
const dec = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const encode = flags.includes('--allow-special') ? (s) => enc.encode(s, 'all') : (s) => enc.encode_ordinary(s);
const out = [];
if (flags.includes('--whole')) {
  out.push(Array.from(encode(dec.decode(buf))).join(' '));
} else {
  const jsonl = flags.includes('--jsonl');
  let start = 0;
  for (;;) {
    let nl = buf.indexOf(10, start);
    if (nl < 0) nl = buf.length;
    if (nl === buf.length && start === buf.length) break;   // no empty line after a final "\n"
    const line = dec.decode(buf.subarray(start, nl));
    if (!jsonl) out.push(Array.from(encode(line)).join(' '));
    else if (line.trim() !== '') {
      let doc = null;
      try { doc = JSON.parse(line); } catch (e) { /* a broken line: quern skips it too */ }
      if (doc !== null) out.push(Array.from(encode(doc.text)).join(' '));
    }
    if (nl === buf.length) break;
    start = nl + 1;
  }
}
fs.writeSync(1, out.length ? out.join('\n') + '\n' : '');
enc.free();
