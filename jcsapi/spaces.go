package jcsapi

// User spaces: /v1/userSpace/*.
//
// Wire shape of a user space (create, update and get answer it as
// data.userSpace):
//
//	{"userSpaceID": 2, "name": "s3",
//	 "storage":    {"type": "S3", "region": "", "endpoint": "http://h:9000", "bucket": "b"},
//	 "credential": {"type": "S3", "accessKeyId": "AK", "secretAccessKey": "******"},
//	 "shardStore": {"maxSize": 0} | null,
//	 "features":   [ ...as sent... ],
//	 "workingDir": "jcs", "revision": 1}
//
//   - storage carries the members of its type: Local {type, rootPath}; S3,
//     OSS, COS, MinIO {type, region, endpoint, bucket}; OBS adds projectID.
//   - credential always has {type, accessKeyId, secretAccessKey}; the
//     secret is "******" whenever one is set ("" when none is), in every
//     reply. Secrets are never logged.
//   - features are echoed as sent (JSON objects with a type), [] when none.
//   - shardStore null means the space stores no objects (it can still be
//     imported from, exported to and synced).
//
// update changes name (when given and not "") and credential (when given);
// a secretAccessKey of "******" keeps the stored secret. delete answers OK
// for an absent space and refuses (OperationFailed) the default space and
// any space still holding objects. test answers OK only when the storage
// was really reached with the credential; otherwise OperationFailed with
// the reason.

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"jcsgw/gateway"
)

type localStorageJSON struct {
	Type     string `json:"type"`
	RootPath string `json:"rootPath"`
}

type s3StorageJSON struct {
	Type     string `json:"type"`
	Region   string `json:"region"`
	Endpoint string `json:"endpoint"`
	Bucket   string `json:"bucket"`
}

type obsStorageJSON struct {
	Type      string `json:"type"`
	Region    string `json:"region"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	ProjectID string `json:"projectID"`
}

type credentialJSON struct {
	Type            string `json:"type"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

type shardStoreJSON struct {
	MaxSize int64 `json:"maxSize"`
}

type userSpaceJSON struct {
	UserSpaceID int64             `json:"userSpaceID"`
	Name        string            `json:"name"`
	Storage     any               `json:"storage"`
	Credential  credentialJSON    `json:"credential"`
	ShardStore  *shardStoreJSON   `json:"shardStore"`
	Features    []json.RawMessage `json:"features"`
	WorkingDir  string            `json:"workingDir"`
	Revision    int64             `json:"revision"`
}

func toStorage(s gateway.StorageConfig) any {
	switch s.Type {
	case "Local":
		return localStorageJSON{Type: s.Type, RootPath: s.RootPath}
	case "OBS":
		return obsStorageJSON{Type: s.Type, Region: s.Region, Endpoint: s.Endpoint, Bucket: s.Bucket, ProjectID: s.ProjectID}
	}
	return s3StorageJSON{Type: s.Type, Region: s.Region, Endpoint: s.Endpoint, Bucket: s.Bucket}
}

func toUserSpace(u gateway.UserSpace) userSpaceJSON {
	u = u.Masked() // the gateway masks already; a reply never risks a secret
	out := userSpaceJSON{
		UserSpaceID: u.ID,
		Name:        u.Name,
		Storage:     toStorage(u.Storage),
		Credential:  credentialJSON{Type: u.Credential.Type, AccessKeyID: u.Credential.AccessKeyID, SecretAccessKey: u.Credential.SecretAccessKey},
		Features:    make([]json.RawMessage, 0, len(u.Features)),
		WorkingDir:  u.WorkingDir,
		Revision:    u.Revision,
	}
	if u.ShardStore != nil {
		out.ShardStore = &shardStoreJSON{MaxSize: u.ShardStore.MaxSize}
	}
	for _, f := range u.Features {
		out.Features = append(out.Features, f.Raw)
	}
	return out
}

func userSpaceReply(u gateway.UserSpace) any {
	return map[string]any{"userSpace": toUserSpace(u)}
}

// Request members.

type storageReq struct {
	Type      *string `json:"type"`
	RootPath  string  `json:"rootPath"`
	Region    string  `json:"region"`
	Endpoint  string  `json:"endpoint"`
	Bucket    string  `json:"bucket"`
	ProjectID string  `json:"projectID"`
}

func (s *storageReq) config() (gateway.StorageConfig, error) {
	if s == nil {
		return gateway.StorageConfig{}, badArg("storage is required")
	}
	if s.Type == nil || *s.Type == "" {
		return gateway.StorageConfig{}, badArg("storage.type is required")
	}
	return gateway.StorageConfig{Type: *s.Type, RootPath: s.RootPath, Region: s.Region,
		Endpoint: s.Endpoint, Bucket: s.Bucket, ProjectID: s.ProjectID}, nil
}

type credentialReq struct {
	Type            string `json:"type"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

func (c *credentialReq) credential() gateway.Credential {
	if c == nil {
		return gateway.Credential{}
	}
	return gateway.Credential{Type: c.Type, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
}

// features checks that each feature is a JSON object with a string type
// and keeps it as sent.
func features(raw *[]json.RawMessage) ([]gateway.Feature, error) {
	out := []gateway.Feature{}
	if raw == nil {
		return out, nil
	}
	for i, r := range *raw {
		field := "features[" + strconv.Itoa(i) + "]"
		var f struct {
			Type *string `json:"type"`
		}
		if t := bytes.TrimSpace(r); len(t) == 0 || t[0] != '{' {
			return nil, badArg("%s must be an object with a type", field)
		}
		if err := json.Unmarshal(r, &f); err != nil {
			return nil, badArg("%s.type: expected a string", field)
		}
		if f.Type == nil || *f.Type == "" {
			return nil, badArg("%s.type is required", field)
		}
		out = append(out, gateway.Feature{Type: *f.Type, Raw: append(json.RawMessage(nil), r...)})
	}
	return out, nil
}

func (a *api) createUserSpace(ctx context.Context, c *call) (any, error) {
	var req struct {
		Name       *string            `json:"name"`
		Storage    *storageReq        `json:"storage"`
		Credential *credentialReq     `json:"credential"`
		ShardStore *shardStoreJSON    `json:"shardStore"`
		Features   *[]json.RawMessage `json:"features"`
		WorkingDir string             `json:"workingDir"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	name, err := needString("name", req.Name)
	if err != nil {
		return nil, err
	}
	st, err := req.Storage.config()
	if err != nil {
		return nil, err
	}
	feats, err := features(req.Features)
	if err != nil {
		return nil, err
	}
	u := gateway.UserSpace{Name: name, Storage: st, Credential: req.Credential.credential(),
		Features: feats, WorkingDir: req.WorkingDir}
	if req.ShardStore != nil {
		u.ShardStore = &gateway.ShardStoreConfig{MaxSize: req.ShardStore.MaxSize}
	}
	u, err = a.svc.CreateSpace(ctx, u)
	if err != nil {
		return nil, err
	}
	return userSpaceReply(u), nil
}

func (a *api) updateUserSpace(ctx context.Context, c *call) (any, error) {
	var req struct {
		UserSpaceID *int64         `json:"userSpaceID"`
		Name        *string        `json:"name"`
		Credential  *credentialReq `json:"credential"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	id, err := needID("userSpaceID", req.UserSpaceID)
	if err != nil {
		return nil, err
	}
	name := ""
	if req.Name != nil {
		name = *req.Name
	}
	var cred *gateway.Credential
	if req.Credential != nil {
		cr := req.Credential.credential()
		cred = &cr
	}
	u, err := a.svc.UpdateSpace(ctx, id, name, cred)
	if err != nil {
		return nil, err
	}
	return userSpaceReply(u), nil
}

func (a *api) deleteUserSpace(ctx context.Context, c *call) (any, error) {
	var req struct {
		UserSpaceID *int64 `json:"userSpaceID"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	id, err := needID("userSpaceID", req.UserSpaceID)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.DeleteSpace(ctx, id)
}

func (a *api) getUserSpace(ctx context.Context, c *call) (any, error) {
	id, err := c.q.id("userSpaceID")
	if err != nil {
		return nil, err
	}
	u, err := a.svc.Space(ctx, id)
	if err != nil {
		return nil, err
	}
	return userSpaceReply(u), nil
}

func (a *api) testUserSpace(ctx context.Context, c *call) (any, error) {
	var req struct {
		Storage    *storageReq    `json:"storage"`
		Credential *credentialReq `json:"credential"`
		WorkingDir string         `json:"workingDir"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	st, err := req.Storage.config()
	if err != nil {
		return nil, err
	}
	u := gateway.UserSpace{Storage: st, Credential: req.Credential.credential(), WorkingDir: req.WorkingDir}
	return nil, a.svc.TestSpace(ctx, u)
}

// createPackageFromSpace imports a file or tree of a user space as a new
// package (userSpace/createPackage).
func (a *api) createPackageFromSpace(ctx context.Context, c *call) (any, error) {
	var req struct {
		UserSpaceID   *int64  `json:"userSpaceID"`
		Path          *string `json:"path"`
		BucketID      *int64  `json:"bucketID"`
		Name          *string `json:"name"`
		SpaceAffinity *int64  `json:"spaceAffinity"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	sid, err := needID("userSpaceID", req.UserSpaceID)
	if err != nil {
		return nil, err
	}
	path, err := needString("path", req.Path)
	if err != nil {
		return nil, err
	}
	bid, err := needID("bucketID", req.BucketID)
	if err != nil {
		return nil, err
	}
	name, err := needString("name", req.Name)
	if err != nil {
		return nil, err
	}
	affinity, err := optSpace("spaceAffinity", req.SpaceAffinity)
	if err != nil {
		return nil, err
	}
	p, err := a.svc.ImportPackage(ctx, sid, path, bid, name, affinity)
	if err != nil {
		return nil, err
	}
	return map[string]any{"package": toPackage(p)}, nil
}

// downloadPackageToSpace exports a package's objects to rootPath/<path> of a
// user space (userSpace/downloadPackage).
func (a *api) downloadPackageToSpace(ctx context.Context, c *call) (any, error) {
	var req struct {
		UserSpaceID *int64  `json:"userSpaceID"`
		PackageID   *int64  `json:"packageID"`
		RootPath    *string `json:"rootPath"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	sid, err := needID("userSpaceID", req.UserSpaceID)
	if err != nil {
		return nil, err
	}
	pid, err := needID("packageID", req.PackageID)
	if err != nil {
		return nil, err
	}
	root, err := needString("rootPath", req.RootPath)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.ExportPackage(ctx, sid, pid, root)
}
