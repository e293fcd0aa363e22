package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"jcsgw/backends"
	"jcsgw/catalog"
)

// Storage is a user space's file tree: what import, export and sync read
// and write. Paths are slash-separated and relative to the storage root.
type Storage interface {
	// Create starts a file; its writer's Commit places it at a path
	// atomically, overwriting.
	Create(ctx context.Context) (backends.BlobWriter, error)
	Open(ctx context.Context, path string, off, n int64) (io.ReadCloser, error)
	Stat(ctx context.Context, path string) (backends.Entry, error)
	Remove(ctx context.Context, path string) error
	// Walk visits every file and directory under dir.
	Walk(ctx context.Context, dir string, fn func(backends.Entry) error) error
	MkdirAll(ctx context.Context, path string) error
	SetModTime(ctx context.Context, path string, t time.Time) error
	Test(ctx context.Context) error
}

// StorageConfig says where a user space keeps its bytes. Which fields
// matter depends on Type: Local uses RootPath; the S3 family (S3, OBS, OSS,
// COS, MinIO) uses Region, Endpoint and Bucket, and OBS also ProjectID.
type StorageConfig struct {
	Type      string `json:"type"`
	RootPath  string `json:"rootPath,omitempty"`
	Region    string `json:"region,omitempty"`
	Endpoint  string `json:"endpoint,omitempty"`
	Bucket    string `json:"bucket,omitempty"`
	ProjectID string `json:"projectID,omitempty"`
}

// Credential is what a user space needs to reach its storage.
type Credential struct {
	Type            string `json:"type"`
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
}

// ShardStoreConfig enables content-addressed object storage in a space.
type ShardStoreConfig struct {
	MaxSize int64 `json:"maxSize"`
}

// Feature is an optional storage feature, kept as the client sent it.
type Feature struct {
	Type string
	Raw  json.RawMessage
}

// UserSpace is a storage system under the one namespace.
type UserSpace struct {
	ID         int64
	Name       string
	Storage    StorageConfig
	Credential Credential
	ShardStore *ShardStoreConfig
	Features   []Feature
	WorkingDir string
	Revision   int64
}

// SecretMask replaces secrets in every reply.
const SecretMask = "******"

// Masked returns the space with its secrets hidden.
func (u UserSpace) Masked() UserSpace {
	if u.Credential.SecretAccessKey != "" {
		u.Credential.SecretAccessKey = SecretMask
	}
	return u
}

// SpaceOpener builds the drivers of a user space: its file tree, and its
// shard store when the space has one.
type SpaceOpener func(ctx context.Context, u UserSpace) (Storage, ShardStore, error)

const tSpace = "space" // id → spaceRec

type spaceRec struct {
	ID         int64             `json:"id"`
	Name       string            `json:"n"`
	Storage    StorageConfig     `json:"st"`
	Credential Credential        `json:"cr"`
	ShardStore *ShardStoreConfig `json:"ss,omitempty"`
	Features   []json.RawMessage `json:"f,omitempty"`
	WorkingDir string            `json:"wd"`
	Revision   int64             `json:"rev"`
}

func (r spaceRec) public() UserSpace {
	u := UserSpace{ID: r.ID, Name: r.Name, Storage: r.Storage, Credential: r.Credential,
		ShardStore: r.ShardStore, WorkingDir: r.WorkingDir, Revision: r.Revision, Features: []Feature{}}
	for _, raw := range r.Features {
		var f struct{ Type string }
		json.Unmarshal(raw, &f)
		u.Features = append(u.Features, Feature{Type: f.Type, Raw: raw})
	}
	return u
}

func recOf(u UserSpace) spaceRec {
	r := spaceRec{ID: u.ID, Name: u.Name, Storage: u.Storage, Credential: u.Credential,
		ShardStore: u.ShardStore, WorkingDir: u.WorkingDir, Revision: u.Revision}
	for _, f := range u.Features {
		r.Features = append(r.Features, f.Raw)
	}
	return r
}

// Storage types and the features each supports.
var storageFeatures = map[string]map[string]bool{
	"Local": {},
	"S3":    {"MultipartUpload": true, "S2STransfer": true},
	"OBS":   {"MultipartUpload": true, "S2STransfer": true},
	"OSS":   {"MultipartUpload": true, "S2STransfer": true},
	"COS":   {"MultipartUpload": true, "S2STransfer": true},
	"MinIO": {"MultipartUpload": true, "S2STransfer": true},
}

// validateSpace checks a space description before anything connects.
func validateSpace(u UserSpace) error {
	feats, ok := storageFeatures[u.Storage.Type]
	if !ok {
		return errorf(CodeBadArgument, "storage.type %q is not supported (Local, S3, OBS, OSS, COS, MinIO)", u.Storage.Type)
	}
	if u.Name == "" {
		return errorf(CodeBadArgument, "name is empty")
	}
	if u.Credential.Type != "" && u.Credential.Type != u.Storage.Type {
		return errorf(CodeBadArgument, "credential.type %q does not match storage.type %q", u.Credential.Type, u.Storage.Type)
	}
	switch u.Storage.Type {
	case "Local":
		if u.Storage.RootPath != "" && !strings.HasPrefix(u.Storage.RootPath, "/") {
			return errorf(CodeBadArgument, "storage.rootPath must be an absolute path")
		}
	default:
		if u.Storage.Bucket == "" {
			return errorf(CodeBadArgument, "storage.bucket is required for %s", u.Storage.Type)
		}
		if u.Credential.AccessKeyID == "" || u.Credential.SecretAccessKey == "" {
			return errorf(CodeBadArgument, "credential.accessKeyId and credential.secretAccessKey are required for %s", u.Storage.Type)
		}
	}
	for i, f := range u.Features {
		if !feats[f.Type] {
			return errorf(CodeBadArgument, "features[%d]: %s storage does not support the feature %q", i, u.Storage.Type, f.Type)
		}
	}
	if u.ShardStore != nil && u.ShardStore.MaxSize < 0 {
		return errorf(CodeBadArgument, "shardStore.maxSize must not be negative")
	}
	return nil
}

// redact removes a credential's secrets from a driver's error text.
func redact(err error, c Credential) string {
	msg := err.Error()
	for _, secret := range []string{c.SecretAccessKey} {
		if len(secret) >= 4 {
			msg = strings.ReplaceAll(msg, secret, SecretMask)
		}
	}
	return msg
}

// loadSpaces opens every space of the catalog. One that cannot be opened
// is logged and left unusable; its objects fail to read until it is fixed.
func (s *Service) loadSpaces(ctx context.Context, def UserSpace) error {
	var recs []spaceRec
	err := s.cat.Update(ctx, func(tx catalog.Tx) error {
		if tx.Get(tSpace, u64(DefaultSpaceID)) == nil {
			def.ID, def.Revision = DefaultSpaceID, 1
			if _, err := tx.NextID("space"); err != nil { // the default takes ID 1
				return err
			}
			if err := tx.Put(tSpace, u64(DefaultSpaceID), enc(recOf(def))); err != nil {
				return err
			}
		}
		return tx.Scan(tSpace, nil, func(_, v []byte) bool {
			if r, err := dec[spaceRec](v); err == nil {
				recs = append(recs, r)
			}
			return true
		})
	})
	if err != nil {
		return fmt.Errorf("gateway: load user spaces: %w", err)
	}
	for _, r := range recs {
		if r.ID == DefaultSpaceID {
			r.Storage = def.Storage // follows the data dir wherever it is now
		}
		if err := s.openSpace(ctx, r.public()); err != nil {
			s.log.Warn("user space unusable", "space", r.ID, "err", redact(err, r.Credential))
		}
	}
	return nil
}

// openSpace builds a space's drivers and makes it usable.
func (s *Service) openSpace(ctx context.Context, u UserSpace) error {
	if s.opener == nil {
		return errors.New("no driver opener configured")
	}
	st, shards, err := s.opener(ctx, u)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.storages[u.ID] = st
	if u.ID == DefaultSpaceID {
		return nil // the default keeps the shard store it was built with
	}
	if shards != nil {
		s.spaces[u.ID] = shards
	} else {
		delete(s.spaces, u.ID)
	}
	return nil
}

func (s *Service) storage(id int64) (Storage, error) {
	if id == 0 {
		id = DefaultSpaceID
	}
	s.mu.RLock()
	st, ok := s.storages[id]
	s.mu.RUnlock()
	if !ok {
		return nil, errorf(CodeBadArgument, "user space %d does not exist or is not usable", id)
	}
	return st, nil
}

func getSpace(tx catalog.Tx, id int64) (spaceRec, error) {
	v := tx.Get(tSpace, u64(id))
	if v == nil {
		return spaceRec{}, errorf(CodeNoSuchSpace, "user space %d does not exist", id)
	}
	return dec[spaceRec](v)
}

// CreateSpace registers a user space; its revision starts at 1.
func (s *Service) CreateSpace(ctx context.Context, u UserSpace) (UserSpace, error) {
	if err := validateSpace(u); err != nil {
		return UserSpace{}, err
	}
	if u.Credential.Type == "" {
		u.Credential.Type = u.Storage.Type
	}
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		id, err := tx.NextID("space")
		if err != nil {
			return err
		}
		u.ID, u.Revision = id, 1
		return tx.Put(tSpace, u64(id), enc(recOf(u)))
	})
	if err != nil {
		return UserSpace{}, err
	}
	if err := s.openSpace(ctx, u); err != nil {
		s.cat.Update(context.WithoutCancel(ctx), func(tx catalog.Tx) error { return tx.Delete(tSpace, u64(u.ID)) })
		return UserSpace{}, wrapErr(CodeOperationFailed, err, "cannot open the user space: %s", redact(err, u.Credential))
	}
	return u.Masked(), nil
}

// UpdateSpace changes a space's name and credential and bumps its revision.
func (s *Service) UpdateSpace(ctx context.Context, id int64, name string, cred *Credential) (UserSpace, error) {
	var u UserSpace
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		r, err := getSpace(tx, id)
		if err != nil {
			return err
		}
		u = r.public()
		if name != "" {
			u.Name = name
		}
		if cred != nil {
			if cred.Type == "" {
				cred.Type = u.Storage.Type
			}
			// A client that read the space back sends the mask: it means
			// "keep the secret", never "the secret is ******".
			if cred.SecretAccessKey == SecretMask {
				if cred.AccessKeyID != u.Credential.AccessKeyID {
					return errorf(CodeBadArgument, "credential.secretAccessKey: a new access key ID needs its secret, not the mask")
				}
				cred.SecretAccessKey = u.Credential.SecretAccessKey
			}
			u.Credential = *cred
		}
		if err := validateSpace(u); err != nil {
			return err
		}
		u.Revision++
		return tx.Put(tSpace, u64(id), enc(recOf(u)))
	})
	if err != nil {
		return UserSpace{}, err
	}
	if err := s.openSpace(ctx, u); err != nil {
		s.log.Warn("user space unusable after update", "space", id, "err", redact(err, u.Credential))
	}
	return u.Masked(), nil
}

// Space returns a user space with its secrets masked.
func (s *Service) Space(ctx context.Context, id int64) (UserSpace, error) {
	var r spaceRec
	err := s.view(ctx, func(tx catalog.Tx) (err error) { r, err = getSpace(tx, id); return })
	return r.public().Masked(), err
}

// ListSpaces returns every user space, secrets masked.
func (s *Service) ListSpaces(ctx context.Context) ([]UserSpace, error) {
	out := []UserSpace{}
	err := s.view(ctx, func(tx catalog.Tx) error {
		return tx.Scan(tSpace, nil, func(_, v []byte) bool {
			if r, err := dec[spaceRec](v); err == nil {
				out = append(out, r.public().Masked())
			}
			return true
		})
	})
	return out, err
}

// DeleteSpace removes a user space. Deleting an absent space is OK; the
// default space, and any space that still holds data, are refused: a
// delete never loses an object.
func (s *Service) DeleteSpace(ctx context.Context, id int64) error {
	if id == DefaultSpaceID {
		return errorf(CodeOperationFailed, "the built-in default user space cannot be deleted")
	}
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		if tx.Get(tSpace, u64(id)) == nil {
			return nil
		}
		objects, uploads := 0, 0
		tx.Scan(tObj, nil, func(_, v []byte) bool {
			if o, err := dec[objRec](v); err == nil && o.SpaceID == id {
				objects++
			}
			return true
		})
		tx.Scan(tUpload, nil, func(_, v []byte) bool {
			if u, err := dec[uploadRec](v); err == nil && u.SpaceID == id {
				uploads++
			}
			return true
		})
		if objects+uploads > 0 {
			return errorf(CodeOperationFailed, "user space %d holds the only copy of %d objects (and %d multipart uploads in progress); "+
				"move or delete them first", id, objects, uploads)
		}
		return tx.Delete(tSpace, u64(id))
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.spaces, id)
	delete(s.storages, id)
	s.mu.Unlock()
	return nil
}

// TestSpace connects to a described storage and checks it is usable.
func (s *Service) TestSpace(ctx context.Context, u UserSpace) error {
	if u.Name == "" {
		u.Name = "test"
	}
	if err := validateSpace(u); err != nil {
		return err
	}
	if s.opener == nil {
		return errorf(CodeOperationFailed, "no storage drivers are configured")
	}
	st, _, err := s.opener(ctx, u)
	if err != nil {
		return &Error{Code: CodeOperationFailed, Message: "cannot open the storage: " + redact(err, u.Credential)}
	}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := st.Test(tctx); err != nil {
		return &Error{Code: CodeOperationFailed, Message: "the storage is not usable: " + redact(err, u.Credential)}
	}
	return nil
}

// ImportPackage creates package name in a bucket from the file or tree at
// srcPath of a user space (srcPath is not prefixed by the working dir).
// Object paths are relative to srcPath; empty directories become "dir/"
// zero-byte objects. The package appears whole, or not at all.
func (s *Service) ImportPackage(ctx context.Context, spaceID int64, srcPath string, bucketID int64, name string, affinity int64) (Package, error) {
	if err := ValidatePackageName(name); err != nil {
		return Package{}, err
	}
	st, err := s.storage(spaceID)
	if err != nil {
		return Package{}, err
	}
	if _, err := s.space(affinity); err != nil {
		return Package{}, err
	}
	if err := s.view(ctx, func(tx catalog.Tx) error {
		if _, err := getBucket(tx, bucketID); err != nil {
			return err
		}
		if _, ok, err := findPackage(tx, bucketID, name); err != nil {
			return err
		} else if ok {
			return errorf(CodePackageExists, "a package named %q already exists in bucket %d", name, bucketID)
		}
		return nil
	}); err != nil {
		return Package{}, err
	}
	root := strings.Trim(path.Clean("/"+srcPath), "/")
	top, err := st.Stat(ctx, root)
	if err != nil {
		return Package{}, wrapErr(CodeOperationFailed, err, "cannot read %q in user space %d: %s", srcPath, spaceID, err)
	}
	var files []StagedFile
	discard := func() {
		for _, f := range files {
			f.Body.Discard()
		}
	}
	importFile := func(e backends.Entry, rel string) error {
		rc, err := st.Open(ctx, e.Path, 0, -1)
		if err != nil {
			return err
		}
		defer rc.Close()
		sb, err := s.stage(ctx, affinity, rc, e.Size, "")
		if err != nil {
			return err
		}
		files = append(files, StagedFile{Path: rel, Body: &Staged{sb}})
		return nil
	}
	if !top.IsDir {
		err = importFile(top, path.Base(root))
	} else {
		hasChild := map[string]bool{}
		var dirs []string
		err = st.Walk(ctx, root, func(e backends.Entry) error {
			p := strings.Trim(e.Path, "/")
			if p == root {
				return nil
			}
			rel := strings.TrimPrefix(p, root+"/")
			if root == "" {
				rel = p
			}
			hasChild[path.Dir(rel)] = true
			if e.IsDir {
				dirs = append(dirs, rel)
				return nil
			}
			if err := importFile(e, rel); err != nil {
				return fmt.Errorf("%s: %w", e.Path, err)
			}
			return nil
		})
		for _, d := range dirs {
			if !hasChild[d] && err == nil {
				var sb *staged
				if sb, err = s.stage(ctx, affinity, strings.NewReader(""), 0, ""); err == nil {
					files = append(files, StagedFile{Path: d + "/", Body: &Staged{sb}})
				}
			}
		}
	}
	if err != nil {
		discard()
		var ge *Error
		if errors.As(err, &ge) && ge.Code != CodeIncompleteBody {
			return Package{}, err
		}
		return Package{}, wrapErr(CodeOperationFailed, err, "import failed: %s", err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	blobs := make([]*staged, len(files))
	for i, f := range files {
		if err := ValidatePath(name, f.Path); err != nil {
			discard()
			return Package{}, wrapErr(CodeBadArgument, err, "%s: %s", f.Path, MessageOf(err))
		}
		blobs[i] = f.Body.st
	}
	var out pkgRec
	err = s.commit(ctx, blobs, func(tx catalog.Tx, r *refs) error {
		if _, ok, err := findPackage(tx, bucketID, name); err != nil {
			return err
		} else if ok {
			return errorf(CodePackageExists, "a package named %q already exists in bucket %d", name, bucketID)
		}
		p, err := s.newPackageTx(tx, bucketID, name, true)
		if err != nil {
			return err
		}
		out = p
		for _, f := range files {
			if _, err := s.putTx(tx, r, p, f.Path, f.Body.st, &PutInput{}); err != nil {
				return err
			}
		}
		return nil
	})
	return out.public(), err
}

// ExportPackage writes every object of a package to rootPath/<path> in a
// user space, creating parents and replacing files, each atomically.
func (s *Service) ExportPackage(ctx context.Context, spaceID, pkgID int64, rootPath string) error {
	st, err := s.storage(spaceID)
	if err != nil {
		return err
	}
	root := strings.Trim(path.Clean("/"+rootPath), "/")
	return s.EachPackageObject(ctx, pkgID, func(o Object) error {
		if o.Redundancy == RedundancyMultipart {
			return nil
		}
		if err := s.exportObject(ctx, st, root, o); err != nil {
			return wrapErr(CodeOperationFailed, err, "export of %q failed: %s", o.Path, err)
		}
		return nil
	})
}

func (s *Service) exportObject(ctx context.Context, st Storage, root string, o Object) error {
	dst := path.Join(root, o.Path)
	if !strings.HasPrefix(dst+"/", root+"/") && root != "" || strings.HasPrefix(dst, "../") || dst == ".." {
		return fmt.Errorf("the path leads outside the export root")
	}
	if strings.HasSuffix(o.Path, "/") {
		return st.MkdirAll(ctx, dst)
	}
	if dir := path.Dir(dst); dir != "." && dir != "" && !objectStore(st) {
		if err := st.MkdirAll(ctx, dir); err != nil {
			return err
		}
	}
	rc, err := s.Open(ctx, o, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	w, err := backends.CreateFor(ctx, st, dst)
	if err != nil {
		return err
	}
	bp := bufPool.Get().(*[]byte)
	_, err = io.CopyBuffer(w, rc, *bp)
	bufPool.Put(bp)
	if err != nil {
		w.Abort()
		return err
	}
	return w.Commit(ctx, dst)
}
