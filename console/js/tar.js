// A POSIX ustar archive (IEEE Std 1003.1, pax "ustar" interchange format),
// written in the browser, so that the compliance bundle's files download as
// one file that any tar unpacks.  Plain files and directories only.

const BLOCK = 512;
const enc = new TextEncoder();

function field(block, off, len, text) {
	const b = enc.encode(text);
	if (b.length > len) throw new Error(`tar: ${text} does not fit in ${len} bytes`);
	block.set(b, off);
}

// A number in octal, zero-padded to len - 1 digits and NUL-terminated.
function octal(block, off, len, n) {
	const s = n.toString(8);
	if (s.length > len - 1) throw new Error(`tar: ${n} does not fit in ${len - 1} octal digits`);
	field(block, off, len, s.padStart(len - 1, "0"));
}

function header(name, size, mode, type, mtime) {
	const h = new Uint8Array(BLOCK);
	if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(name)) throw new Error(`tar: ${name} is not a plain ASCII name`);
	field(h, 0, 100, name);		// name (longer names would need prefix)
	octal(h, 100, 8, mode);		// mode
	octal(h, 108, 8, 0);		// uid
	octal(h, 116, 8, 0);		// gid
	octal(h, 124, 12, size);	// size
	octal(h, 136, 12, mtime);	// mtime
	h.fill(0x20, 148, 156);		// chksum: spaces while it is summed
	field(h, 156, 1, type);		// typeflag
	field(h, 257, 6, "ustar");	// magic "ustar\0"
	field(h, 263, 2, "00");		// version
	let sum = 0;
	for (const b of h) sum += b;
	octal(h, 148, 7, sum);		// six digits, then NUL and a space
	h[154] = 0;
	return h;
}

/**
 * The archive of entries [{name, data (Uint8Array)} or {name, dir: true}],
 * in the order given, each with mode 0644 (0755 for a directory), owner 0
 * and modification time mtime (seconds since the epoch), then the two
 * zero blocks that end it.  Returns a Uint8Array.
 */
export function tar(entries, mtime) {
	const parts = [];
	let n = 0;
	for (const e of entries) {
		const data = e.dir ? new Uint8Array(0) : e.data;
		const name = e.dir && !e.name.endsWith("/") ? `${e.name}/` : e.name;
		if (name.length > 100) throw new Error(`tar: ${name} is longer than 100 bytes`);
		parts.push(header(name, data.length, e.dir ? 0o755 : 0o644, e.dir ? "5" : "0", Math.floor(mtime)));
		parts.push(data);
		const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
		parts.push(new Uint8Array(pad));
		n += BLOCK + data.length + pad;
	}
	parts.push(new Uint8Array(2 * BLOCK));
	n += 2 * BLOCK;
	const out = new Uint8Array(n);
	let off = 0;
	for (const p of parts) {
		out.set(p, off);
		off += p.length;
	}
	return out;
}
