package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"pbxbill/rating"
	"pbxbill/store"
)

const (
	// followBatch bounds the lines committed in one transaction, so a
	// backlog (a first start on a year of Master.csv) goes in steps that
	// leave room for the API's own CDR posts between them.
	followBatch = 5000
	// maxFollowLine bounds one line in memory. cdr_csv lines are a few
	// hundred bytes; a longer one is garbage and is skipped as bad.
	maxFollowLine = 1 << 20
)

// followConfig is the follow mode's part of the configuration.
type followConfig struct {
	FollowPath     string // a PBX CDR file to bill as it grows; "" for none
	FollowFormat   rating.PBXFormat
	FollowInterval time.Duration
}

// followFlags adds the follow mode's flags to fs. The returned validate
// checks their values once fs is parsed; bad names the flag or variable.
func followFlags(fs *flag.FlagSet, c *followConfig) (validate func(bad func(name, value, want string) error) error) {
	var format string
	fs.StringVar(&c.FollowPath, "follow-cdr-csv", "", "`path` of a PBX CDR file to bill as the PBX appends to it, e.g. /var/log/asterisk/cdr-csv/Master.csv")
	fs.StringVar(&format, "follow-format", "asterisk", "`format` of the -follow-cdr-csv file: asterisk or freeswitch")
	fs.DurationVar(&c.FollowInterval, "follow-interval", time.Second, "how often the -follow-cdr-csv file is read (a `duration`)")
	return func(bad func(name, value, want string) error) error {
		if c.FollowFormat = rating.PBXFormat(format); c.FollowFormat != rating.Asterisk && c.FollowFormat != rating.FreeSWITCH {
			return bad("follow-format", format, "want asterisk or freeswitch")
		}
		if c.FollowInterval <= 0 {
			return bad("follow-interval", c.FollowInterval.String(), "want a duration above 0, e.g. 1s")
		}
		return nil
	}
}

// followedStore is what the follower needs of the store; tests wrap a
// *store.Store to make it refuse a line.
type followedStore interface {
	FollowPos(path string) (store.FollowPos, error)
	PostFollowed(node string, cdrs []rating.CDR, pos store.FollowPos) (rating.Posted, error)
	RejectFollowed(line rating.RejectedLine, pos store.FollowPos) error
	ProviderByTrunk() (func(trunk string) (string, bool), error)
	Location() *time.Location
}

// follower bills a PBX CDR file as the PBX appends to it (-follow-cdr-csv).
// Each step posts the CDRs of the complete lines read and the file position
// after them in one transaction, so a restart resumes exactly after the
// last line stored: no CDR is lost or doubled. Unlike an upload, a bad line
// is logged and skipped, because one garbled line must not stop billing;
// so is a line that the store refuses for good, which it also keeps.
type follower struct {
	st       followedStore
	path     string
	format   rating.PBXFormat
	interval time.Duration
	batch    int // lines per commit
	log      zerolog.Logger

	f       *os.File        // the file being read; nil until it is opened
	pos     store.FollowPos // the committed position in f; pos.Inode is f's
	waiting bool            // the missing file has been logged
	graced  bool            // a rotation has waited one poll for the old file's last line
	// finished is the inode of the file that a rotation has just read to
	// its end: its stored position is no sign of a file missed.
	finished uint64

	// What was committed since the start, logged when the follower stops.
	rated, unrated, duplicate, badLines, rejected int
}

// newFollower makes a follower of c.FollowPath that logs to log.
func newFollower(st followedStore, c followConfig, log zerolog.Logger) *follower {
	return &follower{st: st, path: c.FollowPath, format: c.FollowFormat, interval: c.FollowInterval,
		batch: followBatch, log: log.With().Str("component", "follow").Str("path", c.FollowPath).Logger()}
}

// startFollower starts following c.FollowPath when it is set. stop ends
// the follower and waits for its commit in progress.
func startFollower(ctx context.Context, st followedStore, c followConfig, log zerolog.Logger) (stop func()) {
	if c.FollowPath == "" {
		return func() {}
	}
	fl := newFollower(st, c, log)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fl.run(ctx)
	}()
	return func() { cancel(); <-done }
}

// run polls the file every interval until ctx ends.
func (fl *follower) run(ctx context.Context) {
	fl.log.Info().Str("format", string(fl.format)).Dur("interval", fl.interval).Msg("following the CDR file")
	t := time.NewTicker(fl.interval)
	defer t.Stop()
	for {
		fl.poll(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			fl.close()
			fl.log.Info().Int("rated", fl.rated).Int("unrated", fl.unrated).Int("duplicate", fl.duplicate).
				Int("bad_lines", fl.badLines).Int("rejected", fl.rejected).Msg("stopped following the CDR file")
			return
		}
	}
}

// poll takes one step: it notices a rotation or a truncation, then commits
// every complete line after the position. A failure is logged, and the
// next poll tries again from the last committed position.
func (fl *follower) poll(ctx context.Context) {
	fi, err := os.Stat(fl.path)
	switch {
	case err != nil && fl.f != nil:
		// Between logrotate's rename and the PBX's next CDR there is no
		// file: finish the old one and wait for the new.
		_, _ = fl.drain(ctx)
	case err != nil:
	case fl.f != nil && inode(fi) != fl.pos.Inode:
		if !fl.rotate(ctx, inode(fi)) {
			return
		}
	case fl.f != nil && fi.Size() < fl.pos.Offset:
		fl.log.Info().Int64("size", fi.Size()).Int64("offset", fl.pos.Offset).
			Msg("the CDR file was truncated: reading it from the start")
		fl.pos = store.FollowPos{Path: fl.path, Inode: fl.pos.Inode}
	case fl.f != nil && !sameHead(fl.f, fl.pos):
		// Truncated and written again past the offset between two polls:
		// the size alone would not tell.
		fl.log.Warn().Int64("size", fi.Size()).Int64("offset", fl.pos.Offset).
			Msg("the CDR file was truncated and written again (its first line changed): reading it from the start")
		fl.pos = store.FollowPos{Path: fl.path, Inode: fl.pos.Inode}
	}
	if err == nil && fl.f == nil {
		err = fl.open()
	}
	if err != nil {
		// Said once, not at every poll: a PBX with no call yet has no file.
		if !fl.waiting {
			lvl := zerolog.WarnLevel
			if errors.Is(err, fs.ErrNotExist) {
				lvl = zerolog.InfoLevel
			}
			fl.log.WithLevel(lvl).Err(err).Msg("waiting for the CDR file")
			fl.waiting = true
		}
		return
	}
	fl.waiting = false
	_, _ = fl.drain(ctx)
}

// open opens the file and resumes at the stored position when it is the
// same file (same inode, the same first line) and still holds it; any
// other file is new, or was truncated, and is read from its start. A file
// that replaced the one read before while pbxbill was down is said
// loudly, and the rest of the old one is read first when it is found
// beside it, renamed as logrotate does (rotatedFile).
func (fl *follower) open() error {
	pos, err := fl.st.FollowPos(fl.path)
	if err != nil {
		return err
	}
	f, err := os.Open(fl.path)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	switch ino := inode(fi); {
	case pos.Inode == 0 || pos.Inode == fl.finished && ino != pos.Inode:
		// The first start, or the switch after a rotation.
		pos = store.FollowPos{Path: fl.path, Inode: ino}
	case ino != pos.Inode:
		old, read := fl.rotatedFile(pos)
		if read {
			fl.log.Info().Uint64("old_inode", pos.Inode).Int("lines", pos.Line).
				Msg("the CDR file was rotated after its last line was read: reading the new file")
			pos = store.FollowPos{Path: fl.path, Inode: ino}
			break
		}
		if old != nil {
			fl.log.Warn().Str("rotated", old.Name()).Uint64("old_inode", pos.Inode).Int("line", pos.Line).
				Msg("the CDR file was rotated while pbxbill was not reading it: reading the rest of the rotated file first")
			f.Close()
			f = old
			break
		}
		fl.log.Warn().Uint64("old_inode", pos.Inode).Uint64("inode", ino).Int("line", pos.Line).
			Msg("the CDR file is not the one read before, which is not found beside it as " + fl.path + rotatedSuffix +
				": any line after this line of the old file was not billed; upload the old file to bill them")
		pos = store.FollowPos{Path: fl.path, Inode: ino}
	case fi.Size() < pos.Offset || !sameHead(f, pos):
		fl.log.Warn().Int64("size", fi.Size()).Int64("offset", pos.Offset).Int("line", pos.Line).
			Msg("the CDR file was truncated while pbxbill was not reading it: reading it from the start")
		pos = store.FollowPos{Path: fl.path, Inode: ino}
	}
	fl.f, fl.pos = f, pos
	fl.log.Info().Uint64("inode", pos.Inode).Int64("offset", pos.Offset).Int("line", pos.Line).Msg("reading the CDR file")
	return nil
}

// rotatedSuffix is the name logrotate gives a rotated file by default.
const rotatedSuffix = ".1"

// rotatedFile opens the file that pos was read in when it lies beside the
// followed one as logrotate renamed it, and is the same file (its inode
// and first line). It returns nil, and read set, when that file holds
// nothing after pos.
func (fl *follower) rotatedFile(pos store.FollowPos) (f *os.File, read bool) {
	f, err := os.Open(fl.path + rotatedSuffix)
	if err != nil {
		return nil, false
	}
	fi, err := f.Stat()
	if err != nil || inode(fi) != pos.Inode || fi.Size() < pos.Offset || !sameHead(f, pos) {
		f.Close()
		return nil, false
	}
	if fi.Size() == pos.Offset {
		f.Close()
		return nil, true
	}
	return f, false
}

// sameHead reports whether f starts with the bytes that pos's hash was
// taken of, as the file that pos was read in did.
func sameHead(f *os.File, pos store.FollowPos) bool {
	if pos.HeadLen == 0 {
		return true
	}
	b := make([]byte, pos.HeadLen)
	if _, err := f.ReadAt(b, 0); err != nil {
		return false
	}
	return headHash(b) == pos.Head
}

// headLen bounds the bytes of the first line that FollowPos.Head hashes.
const headLen = 1024

func headHash(b []byte) uint64 {
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}

// rotate finishes the old file after logrotate moved it away, then lets
// poll open the new one. It reports false while the old file is not
// finished: a commit failed, or its last line is incomplete, which gets
// one poll for the PBX to finish writing it through its open descriptor.
func (fl *follower) rotate(ctx context.Context, newInode uint64) bool {
	partial, err := fl.drain(ctx)
	if err != nil {
		return false
	}
	if partial && !fl.graced {
		fl.graced = true
		return false
	}
	if partial {
		fl.log.Warn().Int("line", fl.pos.Line+1).Uint64("inode", fl.pos.Inode).
			Msg("the rotated CDR file ends with an incomplete line: skipped")
	}
	fl.log.Info().Uint64("old_inode", fl.pos.Inode).Uint64("inode", newInode).Int("lines", fl.pos.Line).
		Msg("the CDR file was rotated: switching to the new file")
	fl.finished = fl.pos.Inode
	fl.close()
	fl.graced = false
	return true
}

// chunk is what one read step took from the file.
type chunk struct {
	lines []cdrLine
	bad   []badLine       // logged once the chunk is committed
	end   store.FollowPos // after the last complete line read
	more  bool            // stopped at the batch size: more lines may follow
}

// cdrLine is a line that gives a CDR, with the position after it.
type cdrLine struct {
	cdr  rating.CDR
	text string // the line, cut to rating.MaxRejectedText
	end  store.FollowPos
}

// badLine is a line skipped as bad.
type badLine struct {
	line int
	err  error
}

func cdrsOf(lines []cdrLine) []rating.CDR {
	cdrs := make([]rating.CDR, len(lines))
	for i := range lines {
		cdrs[i] = lines[i].cdr
	}
	return cdrs
}

// drain commits every complete line after the position, a batch per
// transaction. partial reports an incomplete last line, left for the next
// poll because the PBX may be writing it now.
func (fl *follower) drain(ctx context.Context) (partial bool, err error) {
	// A fresh snapshot each time: providers created, renamed or deleted
	// since the last poll are matched as they are now.
	resolve, err := fl.st.ProviderByTrunk()
	if err != nil {
		fl.log.Error().Err(err).Msg("reading the providers; retrying")
		return false, err
	}
	for ctx.Err() == nil {
		c, partial, err := fl.read(resolve)
		if err != nil {
			fl.log.Error().Err(err).Msg("reading the CDR file; retrying")
			return false, err
		}
		if c.end == fl.pos {
			return partial, nil
		}
		p, err := fl.st.PostFollowed("", cdrsOf(c.lines), c.end)
		if err == nil {
			fl.committed(p, c.end)
		} else if !permanent(err) {
			// A disk that is full or failing may heal: the next poll
			// tries again from the last committed position.
			fl.log.Error().Err(err).Int("line", fl.pos.Line+1).Msg("storing CDRs; retrying")
			return false, err
		} else {
			// The snapshot may be what is wrong (a provider deleted since
			// it was taken): read the lines again with a fresh one, and
			// set aside only the lines that the store still refuses.
			if resolve, err = fl.st.ProviderByTrunk(); err != nil {
				fl.log.Error().Err(err).Msg("reading the providers; retrying")
				return false, err
			}
			if c, partial, err = fl.read(resolve); err != nil {
				fl.log.Error().Err(err).Msg("reading the CDR file; retrying")
				return false, err
			}
			if err := fl.settle(c.lines, c.end); err != nil {
				// The next poll starts after what settle committed.
				fl.logBad(c.bad)
				fl.log.Error().Err(err).Int("line", fl.pos.Line+1).Msg("storing CDRs; retrying")
				return false, err
			}
		}
		fl.logBad(c.bad)
		if !c.more {
			return partial, nil
		}
	}
	return false, ctx.Err()
}

// logBad logs the bad lines that the committed position has passed, once:
// the lines after it are read again at the next poll.
func (fl *follower) logBad(bad []badLine) {
	for _, b := range bad {
		if b.line <= fl.pos.Line {
			fl.badLines++
			fl.log.Warn().Int("line", b.line).Str("error", rating.ErrorMessage(b.err)).Msg("bad CDR line skipped")
		}
	}
}

// committed moves the position to end after a commit that stored p.
func (fl *follower) committed(p rating.Posted, end store.FollowPos) {
	fl.pos = end
	fl.rated, fl.unrated, fl.duplicate = fl.rated+p.Rated, fl.unrated+p.Unrated, fl.duplicate+p.Duplicate
	fl.log.Debug().Int("line", end.Line).Int("rated", p.Rated).Int("unrated", p.Unrated).
		Int("duplicate", p.Duplicate).Msg("CDRs stored")
}

// settle commits lines with the position end. When the store refuses them
// for good, it halves them until the refused line is alone, and rejects
// that line: every other line is billed, and a batch of n lines with one
// refused line takes about 2·log₂(n) commits.
func (fl *follower) settle(lines []cdrLine, end store.FollowPos) error {
	p, err := fl.st.PostFollowed("", cdrsOf(lines), end)
	switch {
	case err == nil:
		fl.committed(p, end)
		return nil
	case !permanent(err) || len(lines) == 0:
		return err
	case len(lines) == 1:
		l := rating.RejectedLine{Path: fl.path, Line: lines[0].end.Line, Text: lines[0].text, Error: rating.ErrorMessage(err)}
		if err := fl.st.RejectFollowed(l, end); err != nil {
			return err
		}
		fl.pos = end
		fl.rejected++
		fl.log.Error().Int("line", l.Line).Str("error", l.Error).
			Msg("CDR line refused by the store: skipped, and kept among the rejected lines (GET /api/v1/cdrs/rejected)")
		return nil
	}
	mid := len(lines) / 2
	if err := fl.settle(lines[:mid], lines[mid-1].end); err != nil {
		return err
	}
	return fl.settle(lines[mid:], end)
}

// permanent reports whether the store refused a commit for a reason that
// a retry cannot change: a rating.Error other than internal. Anything else
// (a full disk, an I/O error, a closed database) may heal.
func permanent(err error) bool {
	code := rating.ErrorCode(err)
	return code != "" && code != rating.EInternal
}

// read parses up to a batch of complete lines after the position.
func (fl *follower) read(resolve func(string) (string, bool)) (c chunk, partial bool, err error) {
	r := bufio.NewReaderSize(io.NewSectionReader(fl.f, fl.pos.Offset, math.MaxInt64-fl.pos.Offset), 64<<10)
	c.end = fl.pos
	for range fl.batch {
		line, size, tooLong, err := nextLine(r)
		if err == io.EOF {
			return c, size > 0, nil
		} else if err != nil {
			return c, false, err
		}
		if c.end.Line == 0 {
			head := line[:min(len(line), headLen)]
			c.end.Head, c.end.HeadLen = headHash(head), len(head)
		}
		c.end.Offset += int64(size)
		c.end.Line++
		cdr, ok, err := fl.parse(line, tooLong, c.end.Line, resolve)
		if err != nil {
			c.bad = append(c.bad, badLine{c.end.Line, err})
		} else if ok {
			text := rating.CutText(strings.TrimRight(string(line), "\r\n"))
			c.lines = append(c.lines, cdrLine{cdr: cdr, text: text, end: c.end})
		}
	}
	c.more = true
	return c, false, nil
}

// nextLine returns the next complete line of r with its '\n' and the
// bytes it took, or io.EOF with the size of an incomplete last line. A line
// longer than maxFollowLine comes back cut, with tooLong set.
func nextLine(r *bufio.Reader) (line []byte, size int, tooLong bool, err error) {
	for {
		part, err := r.ReadSlice('\n')
		size += len(part)
		if len(line)+len(part) <= maxFollowLine {
			line = append(line, part...)
		} else {
			tooLong = true
		}
		if err != bufio.ErrBufferFull {
			return line, size, tooLong, err
		}
	}
}

// parse turns line n into a CDR. ok is false for a line that bills
// nothing: a blank line, an internal call (no accountcode), or a bad line,
// which err describes.
func (fl *follower) parse(line []byte, tooLong bool, n int, resolve func(string) (string, bool)) (cdr rating.CDR, ok bool, err error) {
	var rec rating.PBXRecord
	switch s := string(line); {
	case tooLong:
		err = rating.Errorf(rating.EInvalid, "longer than %d bytes", maxFollowLine)
	case strings.TrimSpace(s) == "":
		return cdr, false, nil
	default:
		rec, err = rating.ParsePBXLine(fl.format, s, n, fl.st.Location())
	}
	if err == nil && rec.AccountCode == "" {
		return cdr, false, nil
	}
	if err == nil {
		cdr = rec.CDR(0, resolve)
		// A malformed CDR would refuse its whole batch at every poll.
		err = cdr.Validate()
	}
	return cdr, err == nil, err
}

func (fl *follower) close() {
	if fl.f != nil {
		fl.f.Close()
		fl.f = nil
	}
}

// inode is the file's inode number: a rotated file gets a new one.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
