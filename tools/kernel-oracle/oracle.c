/*
 * vmalab kernel oracle: executes mmap/munmap/mprotect/mremap/madvise/mlock
 * operations read from stdin on the real kernel and prints, after each one,
 * the result and the VMAs of interest from /proc/self/smaps as one JSON line.
 *
 * Build:  gcc -O2 -Wall -Wl,-z,now -o oracle oracle.c
 * Usage:  oracle MODE [--aslr] [--headroom N] FILE...
 *   MODE  arena      ops stay inside a private 64 MiB arena; arena VMAs recorded
 *         placement  no MAP_FIXED; the whole process's VMAs are recorded
 *         limit      like arena, but the process is first filled with one-page
 *                    VMAs above the arena until only N (default 60) more VMAs
 *                    fit under vm.max_map_count
 *   --aslr           keep address-space randomisation (default: the program
 *                    re-executes itself with ADDR_NO_RANDOMIZE so that runs are
 *                    reproducible)
 *   FILE...          files opened O_RDWR; "file index" i in mmap ops = FILE[i]
 *
 * Protocol: one op per input line, numbers in hex with 0x (or decimal), see
 * README.md.  Output: one JSON line per input line; the first output line
 * (before any input is read) describes the process ("hello").
 *
 * After setup this program allocates no memory and creates no mappings of its
 * own: no stdio, no malloc; all buffers are static and I/O uses read/write.
 * The dynamic linker resolves every symbol at startup (-Wl,-z,now), and the
 * stack is pre-faulted so that its VMA does not grow during the run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#endif
#ifndef MADV_KEEPONFORK
#define MADV_KEEPONFORK 19
#endif

#define GUARD_BYTES (16UL << 20)
#define ARENA_BYTES (64UL << 20)
#define MAX_FILES 8
#define MAX_RECS (1 << 17)

enum { M_ARENA, M_PLACEMENT, M_LIMIT };

static int mode;
static unsigned long pagesz;
static unsigned long arena_start, arena_end;
static int nfiles;
static int fds[MAX_FILES];
static const char *fpaths[MAX_FILES];
static struct stat fstats[MAX_FILES];

static char sbuf[16 << 20]; /* /proc/self/smaps text */
static size_t slen;
static char obuf[16 << 20]; /* one output line */
static size_t olen;
static char ibuf[1 << 16]; /* stdin */
static size_t ilen;
static char mbuf[1 << 20]; /* streaming reads of /proc/self/maps */
static char lbuf[8 << 20]; /* arena lines of /proc/self/maps (check op) */

struct rec {
	unsigned long start, end;
	size_t hoff, hlen; /* header line in sbuf */
	size_t foff, flen; /* VmFlags text in sbuf */
};
static struct rec recs[MAX_RECS];
static int nrecs;

static sigjmp_buf write_jb;
static volatile sig_atomic_t in_write;

/* ---------------------------------------------------------------- output */

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			_exit(3);
		}
		p += w;
		n -= (size_t)w;
	}
}

static void fatal(const char *msg)
{
	write_all(2, "oracle: ", 8);
	write_all(2, msg, strlen(msg));
	write_all(2, "\n", 1);
	_exit(2);
}

static void out_raw(const char *s, size_t n)
{
	if (olen + n > sizeof obuf)
		fatal("output buffer full");
	memcpy(obuf + olen, s, n);
	olen += n;
}

static void out_s(const char *s) { out_raw(s, strlen(s)); }

static void out_flush(void)
{
	write_all(1, obuf, olen);
	olen = 0;
}

static void out_hex(unsigned long v)
{
	char t[24];
	int i = sizeof t;
	do {
		t[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	t[--i] = 'x';
	t[--i] = '0';
	out_raw(t + i, sizeof t - i);
}

static void out_dec(long v)
{
	char t[24];
	int i = sizeof t;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
	do {
		t[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		t[--i] = '-';
	out_raw(t + i, sizeof t - i);
}

static void out_qhex(unsigned long v)
{
	out_raw("\"", 1);
	out_hex(v);
	out_raw("\"", 1);
}

static void out_jstr(const char *s, size_t n)
{
	out_raw("\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			out_raw(e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', "0123456789abcdef"[c >> 4],
				      "0123456789abcdef"[c & 15] };
			out_raw(e, 6);
		} else {
			out_raw((const char *)&c, 1);
		}
	}
	out_raw("\"", 1);
}

static void out_jcstr(const char *s) { out_jstr(s, strlen(s)); }

/* ---------------------------------------------------------------- errno */

static const char *errno_name(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENFILE: return "ENFILE";
	case EMFILE: return "EMFILE";
	case ETXTBSY: return "ETXTBSY";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case EOVERFLOW: return "EOVERFLOW";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EHWPOISON: return "EHWPOISON";
	default: return 0;
	}
}

static void out_errno(int e)
{
	const char *n = errno_name(e);
	if (n) {
		out_jcstr(n);
	} else {
		out_s("\"E");
		out_dec(e);
		out_s("\"");
	}
}

/* ---------------------------------------------------------------- parsing */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "0x1f" (hex), "-1", "123" (decimal) */
static int parse_num(const char *s, size_t n, unsigned long *out)
{
	unsigned long v = 0;
	int neg = 0;
	size_t i = 0;
	if (n && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		i += 2;
		if (i >= n)
			return -1;
		for (; i < n; i++) {
			int h = hexval(s[i]);
			if (h < 0)
				return -1;
			v = v * 16 + (unsigned long)h;
		}
	} else {
		if (i >= n)
			return -1;
		for (; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			v = v * 10 + (unsigned long)(s[i] - '0');
		}
	}
	*out = neg ? -v : v;
	return 0;
}

/* "start-end " at the beginning of a maps/smaps header line */
static int parse_range(const char *s, size_t n, unsigned long *a, unsigned long *b)
{
	size_t i = 0;
	unsigned long x = 0, y = 0;
	if (n == 0 || hexval(s[0]) < 0)
		return 0;
	while (i < n && hexval(s[i]) >= 0)
		x = x * 16 + (unsigned long)hexval(s[i++]);
	if (i >= n || s[i] != '-')
		return 0;
	i++;
	if (i >= n || hexval(s[i]) < 0)
		return 0;
	while (i < n && hexval(s[i]) >= 0)
		y = y * 16 + (unsigned long)hexval(s[i++]);
	if (i >= n || s[i] != ' ')
		return 0;
	*a = x;
	*b = y;
	return 1;
}

static int contains(const char *s, size_t n, const char *pat)
{
	size_t m = strlen(pat);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(s + i, pat, m) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------------- /proc */

static int intersects_arena(unsigned long a, unsigned long b)
{
	return a < arena_end && b > arena_start;
}

static int wanted(const struct rec *r)
{
	if (contains(sbuf + r->hoff, r->hlen, "[vsyscall]"))
		return 0;
	if (mode == M_PLACEMENT)
		return 1;
	return intersects_arena(r->start, r->end);
}

/*
 * Read /proc/self/smaps into sbuf and split it into records.  If stop is
 * non-zero, reading stops at the first VMA starting at or above stop (the
 * rest of the file is neither read nor generated by the kernel).
 */
static void read_smaps(unsigned long stop)
{
	int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
	size_t scan = 0;
	if (fd < 0)
		fatal("open /proc/self/smaps");
	slen = 0;
	for (;;) {
		if (slen + (1 << 20) > sizeof sbuf)
			fatal("smaps buffer full");
		ssize_t n = read(fd, sbuf + slen, sizeof sbuf - slen - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("read /proc/self/smaps");
		}
		if (n == 0)
			break;
		slen += (size_t)n;
		if (stop) {
			int done = 0;
			while (scan < slen) {
				char *nl = memchr(sbuf + scan, '\n', slen - scan);
				unsigned long a, b;
				if (!nl)
					break;
				if (parse_range(sbuf + scan, (size_t)(nl - (sbuf + scan)), &a, &b) &&
				    a >= stop) {
					slen = scan;
					done = 1;
					break;
				}
				scan = (size_t)(nl - sbuf) + 1;
			}
			if (done)
				break;
		}
	}
	close(fd);

	nrecs = 0;
	size_t p = 0;
	while (p < slen) {
		char *nl = memchr(sbuf + p, '\n', slen - p);
		size_t e = nl ? (size_t)(nl - sbuf) : slen;
		unsigned long a, b;
		if (parse_range(sbuf + p, e - p, &a, &b)) {
			if (nrecs >= MAX_RECS)
				fatal("too many VMAs");
			struct rec *r = &recs[nrecs++];
			r->start = a;
			r->end = b;
			r->hoff = p;
			r->hlen = e - p;
			r->foff = 0;
			r->flen = 0;
		} else if (nrecs && e - p >= 8 && memcmp(sbuf + p, "VmFlags:", 8) == 0) {
			size_t f = p + 8, g = e;
			while (f < g && sbuf[f] == ' ')
				f++;
			while (g > f && (sbuf[g - 1] == ' ' || sbuf[g - 1] == '\t'))
				g--;
			recs[nrecs - 1].foff = f;
			recs[nrecs - 1].flen = g - f;
		}
		p = e + 1;
	}
}

static void out_maps(void)
{
	int first = 1;
	read_smaps(mode == M_PLACEMENT ? 0 : arena_end);
	out_s("[");
	for (int i = 0; i < nrecs; i++) {
		if (!wanted(&recs[i]))
			continue;
		if (!first)
			out_s(",");
		first = 0;
		out_s("[");
		out_jstr(sbuf + recs[i].hoff, recs[i].hlen);
		out_s(",");
		out_jstr(sbuf + recs[i].foff, recs[i].flen);
		out_s("]");
	}
	out_s("]");
}

/*
 * Stream /proc/self/maps.  Counts VMAs (without [vsyscall]) in total and
 * outside the arena; if collect, the arena lines (each followed by '\n') are
 * copied to lbuf and their total length is returned through *llen.
 */
static void scan_maps(long *total, long *outside, int collect, size_t *llen)
{
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t have = 0, ll = 0;
	long t = 0, o = 0;
	if (fd < 0)
		fatal("open /proc/self/maps");
	for (;;) {
		ssize_t n = read(fd, mbuf + have, sizeof mbuf - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("read /proc/self/maps");
		}
		if (n == 0)
			break;
		have += (size_t)n;
		size_t p = 0;
		for (;;) {
			char *nl = memchr(mbuf + p, '\n', have - p);
			unsigned long a, b;
			if (!nl)
				break;
			size_t e = (size_t)(nl - mbuf);
			if (parse_range(mbuf + p, e - p, &a, &b) &&
			    !contains(mbuf + p, e - p, "[vsyscall]")) {
				t++;
				if (arena_end && intersects_arena(a, b)) {
					if (collect) {
						if (ll + (e - p) + 1 > sizeof lbuf)
							fatal("maps line buffer full");
						memcpy(lbuf + ll, mbuf + p, e - p + 1);
						ll += e - p + 1;
					}
				} else {
					o++;
				}
			}
			p = e + 1;
		}
		memmove(mbuf, mbuf + p, have - p);
		have -= p;
		if (have == sizeof mbuf)
			fatal("maps line too long");
	}
	close(fd);
	*total = t;
	*outside = o;
	if (llen)
		*llen = ll;
}

static long read_sysctl_long(const char *path)
{
	char t[64];
	unsigned long v;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	size_t e;
	if (fd < 0)
		return -1;
	n = read(fd, t, sizeof t - 1);
	close(fd);
	if (n <= 0)
		return -1;
	e = (size_t)n;
	while (e && (t[e - 1] == '\n' || t[e - 1] == ' '))
		e--;
	if (parse_num(t, e, &v))
		return -1;
	return (long)v;
}

/* ---------------------------------------------------------------- signals */

static void on_fault(int sig)
{
	if (in_write) {
		in_write = 0;
		siglongjmp(write_jb, sig);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void __attribute__((noinline)) touch_stack(void)
{
	volatile char buf[512 * 1024];
	for (size_t i = 0; i < sizeof buf; i += 1024)
		buf[i] = 0;
}

/* ---------------------------------------------------------------- ops */

/* arena modes: refuse ranges leaving the arena (protects the oracle itself) */
static int in_arena(unsigned long a, unsigned long len)
{
	unsigned long l = (len + pagesz - 1) & ~(pagesz - 1);
	if (mode == M_PLACEMENT)
		return 1;
	if (len == 0)
		return a >= arena_start && a <= arena_end;
	return a >= arena_start && a < arena_end && l <= arena_end - a;
}

#define MAXTOK 8

static void result(long ret, int is_addr, const char *errname, int err)
{
	out_s("{\"ret\":");
	if (ret == -1)
		out_s("-1");
	else if (is_addr)
		out_qhex((unsigned long)ret);
	else
		out_dec(ret);
	out_s(",\"errno\":");
	if (ret != -1)
		out_s("null");
	else if (errname)
		out_jcstr(errname);
	else
		out_errno(err);
	out_s(",\"maps\":");
	out_maps();
	out_s("}\n");
	out_flush();
}

static void reject(const char *why)
{
	out_s("{\"error\":");
	out_jcstr(why);
	out_s("}\n");
	out_flush();
}

static void do_check(void)
{
	long total, outside;
	size_t ll = 0, p = 0;
	int ok = 1;
	scan_maps(&total, &outside, mode != M_PLACEMENT, &ll);
	/* compare the maps lines with the smaps header lines */
	read_smaps(mode == M_PLACEMENT ? 0 : arena_end);
	if (mode == M_PLACEMENT) {
		ok = 1; /* placement: compare counts only */
		long n = 0;
		for (int i = 0; i < nrecs; i++)
			if (wanted(&recs[i]))
				n++;
		if (n != total)
			ok = 0;
	} else {
		for (int i = 0; i < nrecs; i++) {
			if (!wanted(&recs[i]))
				continue;
			char *nl = memchr(lbuf + p, '\n', ll - p);
			if (!nl || (size_t)(nl - (lbuf + p)) != recs[i].hlen ||
			    memcmp(lbuf + p, sbuf + recs[i].hoff, recs[i].hlen) != 0) {
				ok = 0;
				break;
			}
			p = (size_t)(nl - lbuf) + 1;
		}
		if (p != ll)
			ok = 0;
	}
	out_s("{\"check\":");
	out_s(ok ? "true" : "false");
	out_s(",\"total\":");
	out_dec(total);
	out_s(",\"outside\":");
	out_dec(outside);
	out_s(",\"maxMapCount\":");
	out_dec(read_sysctl_long("/proc/sys/vm/max_map_count"));
	out_s("}\n");
	out_flush();
}

static void do_line(char *s, size_t n)
{
	const char *tok[MAXTOK];
	size_t tl[MAXTOK];
	unsigned long v[MAXTOK];
	int nt = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
			i++;
		if (i >= n)
			break;
		if (nt == MAXTOK) {
			reject("too many tokens");
			return;
		}
		tok[nt] = s + i;
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			i++;
		tl[nt] = (size_t)(s + i - tok[nt]);
		nt++;
	}
	if (nt == 0)
		return;
	for (int k = 1; k < nt; k++)
		if (parse_num(tok[k], tl[k], &v[k])) {
			reject("bad number");
			return;
		}
#define IS(name) (tl[0] == strlen(name) && memcmp(tok[0], name, tl[0]) == 0)
#define NARGS(k)                                 \
	do {                                     \
		if (nt != (k) + 1) {             \
			reject("wrong arity");   \
			return;                  \
		}                                \
	} while (0)
	long r;
	int e;
	if (IS("maps")) {
		NARGS(0);
		result(0, 0, 0, 0);
	} else if (IS("check")) {
		NARGS(0);
		do_check();
	} else if (IS("quit")) {
		_exit(0);
	} else if (IS("mmap")) {
		NARGS(6); /* addr len prot flags fileidx off */
		long fi = (long)v[5];
		int fd = -1;
		if (fi >= 0) {
			if (fi >= nfiles) {
				reject("bad file index");
				return;
			}
			fd = fds[fi];
		}
		if (mode != M_PLACEMENT &&
		    (!(v[4] & (MAP_FIXED | MAP_FIXED_NOREPLACE)) || !in_arena(v[1], v[2]))) {
			reject("mmap outside arena");
			return;
		}
		r = syscall(SYS_mmap, v[1], v[2], v[3], v[4], fd, v[6]);
		e = errno;
		result(r, 1, 0, e);
	} else if (IS("munmap")) {
		NARGS(2);
		if (!in_arena(v[1], v[2])) {
			reject("outside arena");
			return;
		}
		r = syscall(SYS_munmap, v[1], v[2]);
		e = errno;
		result(r, 0, 0, e);
	} else if (IS("mprotect")) {
		NARGS(3);
		if (!in_arena(v[1], v[2])) {
			reject("outside arena");
			return;
		}
		r = syscall(SYS_mprotect, v[1], v[2], v[3]);
		e = errno;
		result(r, 0, 0, e);
	} else if (IS("madvise")) {
		NARGS(3);
		if (!in_arena(v[1], v[2])) {
			reject("outside arena");
			return;
		}
		r = syscall(SYS_madvise, v[1], v[2], v[3]);
		e = errno;
		result(r, 0, 0, e);
	} else if (IS("mlock") || IS("munlock")) {
		NARGS(2);
		if (!in_arena(v[1], v[2])) {
			reject("outside arena");
			return;
		}
		r = syscall(IS("mlock") ? SYS_mlock : SYS_munlock, v[1], v[2]);
		e = errno;
		result(r, 0, 0, e);
	} else if (IS("mlock2")) {
		NARGS(3);
		if (!in_arena(v[1], v[2])) {
			reject("outside arena");
			return;
		}
		r = syscall(SYS_mlock2, v[1], v[2], v[3]);
		e = errno;
		result(r, 0, 0, e);
	} else if (IS("mremap")) {
		NARGS(5); /* old oldlen newlen flags newaddr */
		if (mode != M_PLACEMENT) {
			int fixed = (v[4] & MREMAP_FIXED) != 0;
			int maymove = (v[4] & MREMAP_MAYMOVE) != 0;
			/* the old range may grow in place up to addr + newlen */
			unsigned long span = v[2] > v[3] ? v[2] : v[3];
			if (!in_arena(v[1], span) || (fixed && !in_arena(v[5], v[3])) ||
			    (maymove && !fixed && v[3] > v[2])) {
				reject("mremap outside arena");
				return;
			}
		}
		r = syscall(SYS_mremap, v[1], v[2], v[3], v[4], v[5]);
		e = errno;
		result(r, 1, 0, e);
	} else if (IS("write")) {
		NARGS(1);
		if (mode != M_PLACEMENT && (v[1] < arena_start || v[1] >= arena_end)) {
			reject("outside arena");
			return;
		}
		int sig = sigsetjmp(write_jb, 1);
		if (sig == 0) {
			in_write = 1;
			*(volatile unsigned char *)v[1] = 0x5a;
			in_write = 0;
			result(0, 0, 0, 0);
		} else {
			result(-1, 0, sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : "SIGNAL", 0);
		}
	} else {
		reject("unknown op");
	}
#undef IS
#undef NARGS
}

/* ---------------------------------------------------------------- setup */

static void make_filler(long headroom)
{
	long total, outside;
	long maxmap = read_sysctl_long("/proc/sys/vm/max_map_count");
	if (maxmap <= 0)
		fatal("cannot read /proc/sys/vm/max_map_count");
	scan_maps(&total, &outside, 0, 0);
	long want = maxmap - headroom - total;
	if (want < 2)
		fatal("max_map_count too small for limit mode");
	/* One PROT_NONE region, then every odd page PROT_READ: one VMA per page. */
	unsigned long len = (unsigned long)want * pagesz;
	char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		fatal("filler mmap");
	for (long i = 1; i < want; i += 2)
		if (mprotect(p + (unsigned long)i * pagesz, pagesz, PROT_READ))
			fatal("filler mprotect");
}

#define C(name) { #name, (long)(name) }
static const struct {
	const char *n;
	long v;
} consts[] = {
	C(PROT_NONE), C(PROT_READ), C(PROT_WRITE), C(PROT_EXEC),
	C(MAP_SHARED), C(MAP_PRIVATE), C(MAP_ANONYMOUS), C(MAP_FIXED),
	C(MAP_FIXED_NOREPLACE), C(MAP_NORESERVE), C(MAP_STACK), C(MAP_GROWSDOWN),
	C(MAP_POPULATE), C(MAP_LOCKED),
	C(MREMAP_MAYMOVE), C(MREMAP_FIXED), C(MREMAP_DONTUNMAP),
	C(MLOCK_ONFAULT),
	C(MADV_NORMAL), C(MADV_RANDOM), C(MADV_SEQUENTIAL), C(MADV_WILLNEED),
	C(MADV_DONTNEED), C(MADV_FREE), C(MADV_REMOVE), C(MADV_DONTFORK),
	C(MADV_DOFORK), C(MADV_MERGEABLE), C(MADV_UNMERGEABLE), C(MADV_HUGEPAGE),
	C(MADV_NOHUGEPAGE), C(MADV_DONTDUMP), C(MADV_DODUMP), C(MADV_WIPEONFORK),
	C(MADV_KEEPONFORK), C(MADV_COLD), C(MADV_PAGEOUT),
};
#undef C

int main(int argc, char **argv)
{
	int aslr = 0;
	long headroom = 60;
	const char *mname;

	if (argc < 2)
		fatal("usage: oracle arena|placement|limit [--aslr] [--headroom N] FILE...");
	mname = argv[1];
	if (strcmp(mname, "arena") == 0)
		mode = M_ARENA;
	else if (strcmp(mname, "placement") == 0)
		mode = M_PLACEMENT;
	else if (strcmp(mname, "limit") == 0)
		mode = M_LIMIT;
	else
		fatal("unknown mode");
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--aslr") == 0) {
			aslr = 1;
		} else if (strcmp(argv[i], "--headroom") == 0 && i + 1 < argc) {
			unsigned long h;
			if (parse_num(argv[i + 1], strlen(argv[i + 1]), &h))
				fatal("bad --headroom");
			headroom = (long)h;
			i++;
		} else {
			if (nfiles == MAX_FILES)
				fatal("too many files");
			fpaths[nfiles++] = argv[i];
		}
	}

	if (!aslr) {
		int pers = personality(0xffffffff);
		if (pers == -1)
			fatal("personality");
		if (!(pers & ADDR_NO_RANDOMIZE)) {
			if (personality((unsigned long)pers | ADDR_NO_RANDOMIZE) == -1)
				fatal("personality(ADDR_NO_RANDOMIZE)");
			execv("/proc/self/exe", argv);
			fatal("re-exec failed");
		}
	}

	pagesz = (unsigned long)sysconf(_SC_PAGESIZE);
	touch_stack();

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, 0) || sigaction(SIGBUS, &sa, 0))
		fatal("sigaction");
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; i < nfiles; i++) {
		fds[i] = open(fpaths[i], O_RDWR | O_CLOEXEC);
		if (fds[i] < 0)
			fatal("cannot open file");
		if (fstat(fds[i], &fstats[i]))
			fatal("fstat");
	}

	if (mode == M_LIMIT)
		make_filler(headroom);

	/* The arena: reserve 16 MiB + 64 MiB + 16 MiB, give it all back, use the middle. */
	unsigned long span = ARENA_BYTES + 2 * GUARD_BYTES;
	char *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		fatal("arena reservation");
	if (munmap(res, span))
		fatal("arena munmap");
	arena_start = (unsigned long)res + GUARD_BYTES;
	arena_end = arena_start + ARENA_BYTES;

	long total, outside;
	scan_maps(&total, &outside, 0, 0);

	struct utsname u;
	if (uname(&u))
		fatal("uname");

	out_s("{\"hello\":\"vmalab-kernel-oracle\",\"mode\":");
	out_jcstr(mname);
	out_s(",\"kernel\":");
	out_jcstr(u.release);
	out_s(",\"pageSize\":");
	out_dec((long)pagesz);
	out_s(",\"arena\":{\"start\":");
	out_qhex(arena_start);
	out_s(",\"end\":");
	out_qhex(arena_end);
	out_s("},\"maxMapCount\":");
	out_dec(read_sysctl_long("/proc/sys/vm/max_map_count"));
	out_s(",\"outsideCount\":");
	out_dec(outside);
	out_s(",\"totalCount\":");
	out_dec(total);
	out_s(",\"aslr\":");
	out_s(aslr ? "true" : "false");
	out_s(",\"files\":[");
	for (int i = 0; i < nfiles; i++) {
		char dev[16];
		unsigned ma = major(fstats[i].st_dev), mi = minor(fstats[i].st_dev);
		/* same rendering as /proc/PID/maps: "%02x:%02x" */
		int k = 0;
		const char *hx = "0123456789abcdef";
		char t[8];
		int j = 0;
		do { t[j++] = hx[ma & 15]; ma >>= 4; } while (ma);
		if (j < 2) t[j++] = '0';
		while (j) dev[k++] = t[--j];
		dev[k++] = ':';
		do { t[j++] = hx[mi & 15]; mi >>= 4; } while (mi);
		if (j < 2) t[j++] = '0';
		while (j) dev[k++] = t[--j];
		if (i)
			out_s(",");
		out_s("{\"path\":");
		out_jcstr(fpaths[i]);
		out_s(",\"size\":");
		out_dec((long)fstats[i].st_size);
		out_s(",\"dev\":");
		out_jstr(dev, (size_t)k);
		out_s(",\"inode\":");
		out_dec((long)fstats[i].st_ino);
		out_s("}");
	}
	out_s("],\"consts\":{");
	for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++) {
		if (i)
			out_s(",");
		out_jcstr(consts[i].n);
		out_s(":");
		out_dec(consts[i].v);
	}
	out_s("}}\n");
	out_flush();

	/* main loop: one op per line */
	for (;;) {
		char *nl = memchr(ibuf, '\n', ilen);
		if (nl) {
			size_t n = (size_t)(nl - ibuf);
			do_line(ibuf, n);
			memmove(ibuf, nl + 1, ilen - n - 1);
			ilen -= n + 1;
			continue;
		}
		if (ilen == sizeof ibuf)
			fatal("input line too long");
		ssize_t r = read(0, ibuf + ilen, sizeof ibuf - ilen);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			fatal("read stdin");
		}
		if (r == 0) {
			if (ilen)
				do_line(ibuf, ilen);
			_exit(0);
		}
		ilen += (size_t)r;
	}
}
