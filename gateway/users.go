package gateway

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"strings"
	"sync"
	"time"

	"jcsgw/catalog"
)

// Users own buckets; each has one or more access keys. The first admin key
// (from the command line or generated at first start) belongs to the
// built-in user "admin" (ID 0), which owns every bucket made before users
// existed. A caller sees and touches only its own buckets, on both fronts.

const (
	tUser     = "user"      // id → userRec
	tUserName = "user_name" // name → id
	tKey      = "key"       // access key → keyRec
)

// AdminUserID is the built-in user of the bootstrap key.
const AdminUserID int64 = 0

// User is a principal that owns buckets.
type User struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Keys    []string  `json:"keys"` // access key IDs
}

type userRec struct {
	ID      int64     `json:"id"`
	Name    string    `json:"n"`
	Created time.Time `json:"c"`
}

type keyRec struct {
	UserID int64     `json:"u"`
	Sealed []byte    `json:"s"` // the secret, sealed with the server key
	Made   time.Time `json:"c"`
}

// Caller is who a request acts for.
type Caller struct {
	UserID int64
}

type callerKey struct{}

// WithCaller makes ctx act for c: every bucket the gateway touches under it
// must belong to c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerOf(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// callerTx is a transaction that knows its caller; the record readers use
// it to refuse other users' buckets, so no call site can forget to.
type callerTx struct {
	catalog.Tx
	caller Caller
	// owned is the last bucket found to be the caller's: an object's or a
	// package's reader checks its bucket, and one request reads several
	// records of the same bucket (an owner does not change inside a
	// transaction of the caller's).
	owned int64
}

func withCaller(ctx context.Context, tx catalog.Tx) catalog.Tx {
	if c, ok := callerOf(ctx); ok {
		return &callerTx{Tx: tx, caller: c}
	}
	return tx
}

// checkOwner refuses a bucket of another user.
func checkOwner(tx catalog.Tx, b bucketRec) error {
	ct, ok := tx.(*callerTx)
	if !ok {
		return nil
	}
	if b.Owner != ct.caller.UserID {
		return errorf(CodeAccessDenied, "access to bucket %q is denied: it belongs to another user", b.Name)
	}
	ct.owned = b.ID
	return nil
}

// checkBucketOf refuses a record of a bucket of another user (one that
// does not exist included), reading the bucket unless tx already found it
// the caller's.
func checkBucketOf(tx catalog.Tx, bucketID int64) error {
	if ct, ok := tx.(*callerTx); !ok || (ct.owned == bucketID && bucketID != 0) {
		return nil
	}
	_, err := getBucket(tx, bucketID)
	return err
}

// ownerFor is the owner of a bucket made in tx.
func ownerFor(tx catalog.Tx) int64 {
	if ct, ok := tx.(*callerTx); ok {
		return ct.caller.UserID
	}
	return AdminUserID
}

// keyring seals access-key secrets with the server key (AES-256-GCM):
// SigV4 needs the secret itself, so it cannot be hashed, but the catalog
// alone never reveals it.
type keyring struct{ aead cipher.AEAD }

func newKeyring(key []byte) (*keyring, error) {
	if len(key) != 32 {
		return nil, errors.New("gateway: the server key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &keyring{aead}, nil
}

func (k *keyring) seal(access, secret string) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, []byte(secret), []byte(access))
}

func (k *keyring) open(access string, sealed []byte) (string, error) {
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed secret too short")
	}
	b, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte(access))
	return string(b), err
}

// keyCache keeps opened secrets; keys change rarely and are read on every
// request.
type keyCache struct {
	mu sync.RWMutex
	m  map[string]cachedKey
	// absent holds keys the catalog does not hold. The bootstrap key is one,
	// and every request it signs asked the catalog again: a read
	// transaction, about 2.5 % of a 4 KiB GET's server CPU. Bounded (made-up keys
	// must not grow it) and emptied whenever a key is added; gen tells a
	// lookup that raced with an addition not to remember its miss.
	absent map[string]struct{}
	gen    uint64
}

const maxAbsentKeys = 64

type cachedKey struct {
	secret string
	user   int64
}

func (s *Service) lookupKey(access string) (cachedKey, bool) {
	s.keys.mu.RLock()
	k, ok := s.keys.m[access]
	_, absent := s.keys.absent[access]
	gen := s.keys.gen
	s.keys.mu.RUnlock()
	if ok {
		return k, true
	}
	if absent || s.ring == nil {
		return cachedKey{}, false
	}
	var rec keyRec
	found := false
	viewErr := s.view(context.Background(), func(tx catalog.Tx) error {
		if v := tx.Get(tKey, []byte(access)); v != nil {
			var err error
			rec, err = dec[keyRec](v)
			found = err == nil
		}
		return nil
	})
	if !found {
		s.keys.mu.Lock()
		// Only a clean read proves the key absent.
		if viewErr == nil && s.keys.gen == gen {
			if len(s.keys.absent) >= maxAbsentKeys || s.keys.absent == nil {
				s.keys.absent = map[string]struct{}{}
			}
			s.keys.absent[access] = struct{}{}
		}
		s.keys.mu.Unlock()
		return cachedKey{}, false
	}
	secret, err := s.ring.open(access, rec.Sealed)
	if err != nil {
		s.log.Warn("cannot open a stored access key: wrong server key?", "accessKey", access)
		return cachedKey{}, false
	}
	k = cachedKey{secret, rec.UserID}
	s.keys.mu.Lock()
	if s.keys.m == nil {
		s.keys.m = map[string]cachedKey{}
	}
	s.keys.m[access] = k
	s.keys.mu.Unlock()
	return k, true
}

// SecretKey finds the secret of an access key kept in the catalog (it
// implements auth.KeyLookup).
func (s *Service) SecretKey(access string) (string, bool) {
	k, ok := s.lookupKey(access)
	return k.secret, ok
}

// CallerOf is the caller an authenticated access key acts for: its user,
// or the admin for a key the catalog does not hold (the bootstrap key).
func (s *Service) CallerOf(access string) Caller {
	if k, ok := s.lookupKey(access); ok {
		return Caller{UserID: k.user}
	}
	return Caller{UserID: AdminUserID}
}

// requireAdmin refuses user management to callers other than the admin;
// tools on the data dir (no caller) may always.
func requireAdmin(ctx context.Context) error {
	if c, ok := callerOf(ctx); ok && c.UserID != AdminUserID {
		return errorf(CodeAccessDenied, "only the admin may manage users and keys")
	}
	return nil
}

func validUserName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " /\\\x00") || name == "admin" {
		return errorf(CodeBadArgument, "user name %q is not valid: 1-64 characters, no spaces or slashes, not \"admin\"", name)
	}
	return nil
}

// AddUser creates a user with one access key and returns the secret; it is
// shown this once.
func (s *Service) AddUser(ctx context.Context, name string) (User, string, error) {
	if err := requireAdmin(ctx); err != nil {
		return User{}, "", err
	}
	if err := validUserName(name); err != nil {
		return User{}, "", err
	}
	var u User
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		if tx.Get(tUserName, []byte(name)) != nil {
			return errorf(CodeObjectExists, "a user named %q already exists", name)
		}
		id, err := tx.NextID("user")
		if err != nil {
			return err
		}
		rec := userRec{ID: id, Name: name, Created: s.now()}
		u = User{ID: id, Name: name, Created: rec.Created}
		if err := tx.Put(tUser, u64(id), enc(rec)); err != nil {
			return err
		}
		return tx.Put(tUserName, []byte(name), u64(id))
	})
	if err != nil {
		return User{}, "", err
	}
	access, secret, err := s.AddKey(ctx, name)
	if err != nil {
		return User{}, "", err
	}
	u.Keys = []string{access}
	return u, secret, nil
}

// AddKey gives a user a new access key and returns it with its secret.
func (s *Service) AddKey(ctx context.Context, user string) (access, secret string, err error) {
	if err := requireAdmin(ctx); err != nil {
		return "", "", err
	}
	if s.ring == nil {
		return "", "", errorf(CodeOperationFailed, "no server key is configured: users cannot have keys")
	}
	b := make([]byte, 28)
	rand.Read(b)
	access = "JCS" + strings.ToUpper(hex.EncodeToString(b[:8]))
	secret = hex.EncodeToString(b[8:])
	err = s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		v := tx.Get(tUserName, []byte(user))
		if v == nil {
			return errorf(CodeBadArgument, "user %q does not exist", user)
		}
		return tx.Put(tKey, []byte(access), enc(keyRec{UserID: getU64(v), Sealed: s.ring.seal(access, secret), Made: s.now()}))
	})
	s.keys.mu.Lock()
	s.keys.absent = nil
	s.keys.gen++
	s.keys.mu.Unlock()
	return access, secret, err
}

// RemoveKey deletes an access key; requests signed with it fail from now.
func (s *Service) RemoveKey(ctx context.Context, access string) error {
	if err := requireAdmin(ctx); err != nil {
		return err
	}
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		if tx.Get(tKey, []byte(access)) == nil {
			return errorf(CodeBadArgument, "access key %q does not exist", access)
		}
		return tx.Delete(tKey, []byte(access))
	})
	s.keys.mu.Lock()
	delete(s.keys.m, access)
	s.keys.mu.Unlock()
	return err
}

// RemoveUser deletes a user and its keys; a user who still owns buckets is
// refused, so that no bucket is left without an owner.
func (s *Service) RemoveUser(ctx context.Context, name string) error {
	if err := requireAdmin(ctx); err != nil {
		return err
	}
	var removed []string
	err := s.update(ctx, func(tx catalog.Tx, _ *refs) error {
		v := tx.Get(tUserName, []byte(name))
		if v == nil {
			return errorf(CodeBadArgument, "user %q does not exist", name)
		}
		id := getU64(v)
		owned := 0
		tx.Scan(tBucket, nil, func(_, bv []byte) bool {
			if b, err := dec[bucketRec](bv); err == nil && b.Owner == id {
				owned++
			}
			return true
		})
		if owned > 0 {
			return errorf(CodeOperationFailed, "user %q still owns %d buckets; delete them first", name, owned)
		}
		removed = removed[:0]
		tx.Scan(tKey, nil, func(k, kv []byte) bool {
			if r, err := dec[keyRec](kv); err == nil && r.UserID == id {
				removed = append(removed, string(k))
			}
			return true
		})
		for _, k := range removed {
			if err := tx.Delete(tKey, []byte(k)); err != nil {
				return err
			}
		}
		if err := tx.Delete(tUserName, []byte(name)); err != nil {
			return err
		}
		return tx.Delete(tUser, u64(id))
	})
	s.keys.mu.Lock()
	for _, k := range removed {
		delete(s.keys.m, k)
	}
	s.keys.mu.Unlock()
	return err
}

// ListUsers returns every user with its access key IDs (never secrets).
func (s *Service) ListUsers(ctx context.Context) ([]User, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	out := []User{}
	err := s.view(ctx, func(tx catalog.Tx) error {
		byID := map[int64]int{}
		tx.Scan(tUser, nil, func(_, v []byte) bool {
			if r, err := dec[userRec](v); err == nil {
				byID[r.ID] = len(out)
				out = append(out, User{ID: r.ID, Name: r.Name, Created: r.Created, Keys: []string{}})
			}
			return true
		})
		return tx.Scan(tKey, nil, func(k, v []byte) bool {
			if r, err := dec[keyRec](v); err == nil {
				if i, ok := byID[r.UserID]; ok {
					out[i].Keys = append(out[i].Keys, string(k))
				}
			}
			return true
		})
	})
	return out, err
}
