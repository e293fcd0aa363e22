package jcsapi

import "context"

// The admin endpoints manage users and keys as `jcsgw user` does on the
// data dir. Only the admin may call them (the gateway refuses other users).
//
//	POST /v1/admin/user/create {"name"}        → {"user":{"id","name","accessKey","secretKey"}}
//	GET  /v1/admin/user/list                   → {"users":[{"id","name","created","keys":[…]}]}
//	POST /v1/admin/user/delete {"name"}        → null
//	POST /v1/admin/key/create {"name"}         → {"accessKey","secretKey"}
//	POST /v1/admin/key/delete {"accessKey"}    → null
//
// A secret appears in exactly one reply: the one that made it.

func (a *api) adminCreateUser(ctx context.Context, c *call) (any, error) {
	var req struct {
		Name *string `json:"name"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	name, err := needString("name", req.Name)
	if err != nil {
		return nil, err
	}
	u, secret, err := a.svc.AddUser(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"user": map[string]any{"id": u.ID, "name": u.Name, "accessKey": u.Keys[0], "secretKey": secret}}, nil
}

func (a *api) adminListUsers(ctx context.Context, c *call) (any, error) {
	users, err := a.svc.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(users))
	for _, u := range users {
		out = append(out, map[string]any{"id": u.ID, "name": u.Name, "created": jcsTime(u.Created), "keys": u.Keys})
	}
	return map[string]any{"users": out}, nil
}

func (a *api) adminDeleteUser(ctx context.Context, c *call) (any, error) {
	var req struct {
		Name *string `json:"name"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	name, err := needString("name", req.Name)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.RemoveUser(ctx, name)
}

func (a *api) adminCreateKey(ctx context.Context, c *call) (any, error) {
	var req struct {
		Name *string `json:"name"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	name, err := needString("name", req.Name)
	if err != nil {
		return nil, err
	}
	ak, sk, err := a.svc.AddKey(ctx, name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"accessKey": ak, "secretKey": sk}, nil
}

func (a *api) adminDeleteKey(ctx context.Context, c *call) (any, error) {
	var req struct {
		AccessKey *string `json:"accessKey"`
	}
	if err := decodeJSON(c.body, &req); err != nil {
		return nil, err
	}
	ak, err := needString("accessKey", req.AccessKey)
	if err != nil {
		return nil, err
	}
	return nil, a.svc.RemoveKey(ctx, ak)
}
