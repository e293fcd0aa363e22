package backends

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Create starts an object. Up to one part (PartSize) it stays in memory and
// is PUT at its final key on Commit; beyond, it goes up as a multipart
// upload to a staging key under ".jcsgw-tmp/", which Commit copies into
// place server-side and deletes. Use CreateAt when the key is known.
func (s *S3Storage) Create(ctx context.Context) (BlobWriter, error) {
	return s.newWriter(ctx, path.Join(stagingDir, stagingPrefix+randomSuffix()), ""), nil
}

// CreateIn is Create with the staging key in dir.
func (s *S3Storage) CreateIn(ctx context.Context, dir string) (BlobWriter, error) {
	d, err := CleanPath(dir)
	if err != nil {
		return nil, err
	}
	return s.newWriter(ctx, path.Join(d, stagingPrefix+randomSuffix()), ""), nil
}

// CreateAt starts an object for key p: a large one goes up as a multipart
// upload straight to p, which is atomic by nature (nothing shows at p until
// Commit completes the upload).
func (s *S3Storage) CreateAt(ctx context.Context, p string) (BlobWriter, error) {
	key, err := cleanFilePath(p)
	if err != nil {
		return nil, err
	}
	return s.newWriter(ctx, key, key), nil
}

func (s *S3Storage) newWriter(ctx context.Context, uploadKey, target string) *s3Writer {
	wctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { cancel(context.Cause(ctx)) })
	return &s3Writer{
		s: s, ctx: wctx, cancel: func(err error) { stop(); cancel(err) },
		uploadKey: uploadKey, target: target,
		free: make(chan *[]byte, s.concurrency),
	}
}

// s3Writer buffers a part at a time. A writer owns at most Concurrency part
// buffers (taken from the storage's pool on first need, cycled between
// filling and uploading, and given back when it finishes), so memory stays
// at or below PartSize*Concurrency whatever the object's size, and at most
// Concurrency parts are in flight.
type s3Writer struct {
	s         *S3Storage
	ctx       context.Context // part uploads; cancelled by Abort, a failed part or the Create context
	cancel    func(error)
	uploadKey string       // key of the multipart upload
	target    string       // fixed destination (CreateAt), or ""
	free      chan *[]byte // buffers whose upload finished
	owned     int          // buffers taken from the pool

	buf      *[]byte // part being filled
	n        int     // bytes in buf
	size     int64
	uploadID *string
	partNum  int32
	wg       sync.WaitGroup

	mu    sync.Mutex
	parts []types.CompletedPart
	err   error // first failed part

	done bool
}

func (w *s3Writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *s3Writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

// room makes sure there is a buffer with free space, sending a full one
// off first.
func (w *s3Writer) room() error {
	if w.done {
		return errors.New("s3 storage: write after the object was finished")
	}
	if err := w.failed(); err != nil {
		return err
	}
	if w.buf != nil && w.n == len(*w.buf) {
		if err := w.sendPart(); err != nil {
			return err
		}
	}
	if w.buf == nil {
		select {
		case w.buf = <-w.free:
		default:
			if w.owned < cap(w.free) {
				w.owned++
				w.buf = w.s.pool.Get().(*[]byte)
				break
			}
			select {
			case w.buf = <-w.free:
			case <-w.ctx.Done():
				if err := w.failed(); err != nil {
					return err
				}
				return fmt.Errorf("s3 storage: write: %w", context.Cause(w.ctx))
			}
		}
		w.n = 0
	}
	return nil
}

func (w *s3Writer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := w.room(); err != nil {
			return written, err
		}
		c := copy((*w.buf)[w.n:], p)
		w.n += c
		w.size += int64(c)
		written += c
		p = p[c:]
	}
	return written, nil
}

// ReadFrom reads straight into the part buffers.
func (w *s3Writer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		if err := w.room(); err != nil {
			return total, err
		}
		c, err := r.Read((*w.buf)[w.n:])
		w.n += c
		w.size += int64(c)
		total += int64(c)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// sendPart uploads the full buffer in the background, starting the
// multipart upload first if this is the first part.
func (w *s3Writer) sendPart() error {
	s := w.s
	if w.uploadID == nil {
		out, err := s.client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &w.uploadKey})
		if err != nil {
			return s.errf("start multipart upload", w.uploadKey, err)
		}
		w.uploadID = out.UploadId
	}
	if w.partNum >= maxS3Parts {
		return fmt.Errorf("s3 storage: object too large: more than %d parts of %d bytes", maxS3Parts, s.partSize)
	}
	w.partNum++
	num, buf, n := w.partNum, w.buf, w.n
	w.buf, w.n = nil, 0
	w.wg.Go(func() {
		defer func() { w.free <- buf }()
		out, err := s.client.UploadPart(w.ctx, &s3.UploadPartInput{
			Bucket: &s.bucket, Key: &w.uploadKey, UploadId: w.uploadID, PartNumber: aws.Int32(num),
			Body: bytes.NewReader((*buf)[:n]), ContentLength: aws.Int64(int64(n)),
		})
		if err != nil {
			err = s.errf(fmt.Sprintf("upload part %d of", num), w.uploadKey, err)
			w.fail(err)
			w.cancel(err)
			return
		}
		w.mu.Lock()
		w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		w.mu.Unlock()
	})
	return nil
}

// releaseBufs gives the writer's buffers back to the pool; no upload may
// be running.
func (w *s3Writer) releaseBufs() {
	if w.buf != nil {
		w.s.pool.Put(w.buf)
		w.buf = nil
	}
	for {
		select {
		case b := <-w.free:
			w.s.pool.Put(b)
		default:
			return
		}
	}
}

// Commit places the object at p.
func (w *s3Writer) Commit(ctx context.Context, p string) error {
	if w.done {
		return errors.New("s3 storage: object already finished")
	}
	key, err := cleanFilePath(p)
	if err == nil && w.target != "" && key != w.target {
		err = fmt.Errorf("s3 storage: writer was created for %q, cannot commit it at %q", w.target, key)
	}
	if err == nil {
		err = w.failed()
	}
	if err != nil {
		w.Abort()
		return err
	}
	w.done = true
	defer w.cancel(context.Canceled)
	s := w.s
	if w.uploadID == nil {
		// Small: one PUT, straight to the final key.
		var body []byte
		if w.buf != nil {
			body = (*w.buf)[:w.n]
		}
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
		})
		w.releaseBufs()
		return s.errf("put", key, err)
	}
	if w.n > 0 {
		if err := w.sendPart(); err != nil { // the last part
			w.discard(err)
			return err
		}
	}
	w.wg.Wait()
	w.releaseBufs()
	if err := w.failed(); err != nil {
		w.discard(err)
		return err
	}
	slices.SortFunc(w.parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &s.bucket, Key: &w.uploadKey, UploadId: w.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts},
	})
	if err != nil {
		w.discard(err)
		return s.errf("complete multipart upload", w.uploadKey, err)
	}
	if w.uploadKey == key {
		return nil
	}
	err = s.copyObject(ctx, w.uploadKey, key, w.size)
	// The staging object goes either way; if deleting it fails, SweepTemp
	// will find it.
	s.removeKey(context.WithoutCancel(ctx), w.uploadKey)
	return err
}

// Abort discards the object: buffered bytes are dropped and a multipart
// upload is aborted.
func (w *s3Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.discard(context.Canceled)
	return nil
}

// discard stops the part uploads, waits for them, and drops everything.
func (w *s3Writer) discard(cause error) {
	w.cancel(cause)
	w.wg.Wait()
	w.releaseBufs()
	w.abortUpload()
}

func (w *s3Writer) abortUpload() {
	if w.uploadID == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.s.bucket, Key: &w.uploadKey, UploadId: w.uploadID})
	w.uploadID = nil
}
