package jcsapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	"jcsgw/gateway"
)

// Multipart forms are read part by part from the connection: file parts
// stream straight into the gateway's staging, nothing is held in memory
// beyond the small info part.

// openForm opens a request's multipart/form-data (or multipart/mixed)
// body, as http.Request.MultipartReader would, for multipartReader; part
// headers are bounded like the request's own (max-header-bytes). The
// reader's release must be called once the form is done with.
func (a *api) openForm(r *http.Request) (*multipartReader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mt != "multipart/form-data" && mt != "multipart/mixed" {
		err = fmt.Errorf("the content type is %q", mt)
	}
	var mr *multipartReader
	if err == nil {
		mr, err = newMultipartReader(r.Body, params["boundary"], a.lim.MaxHeaderBytes)
	}
	if err != nil {
		return nil, badArg("the request body must be multipart/form-data with a boundary: %v", err)
	}
	return mr, nil
}

// nextPart returns the form's next part, or nil at its end.
func nextPart(mr *multipartReader) (*formPart, error) {
	p, err := mr.NextPart()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, formError(err)
	}
	return p, nil
}

// formError classifies a failure to read the form: a body the verifier
// refused stays an auth error; anything else is a malformed form.
func formError(err error) error {
	if _, code, _ := classify(err); code == codeUnauthorized {
		return err
	}
	return badArg("the multipart form is malformed or was cut off: %v", err)
}

// partNames returns a part's form name and, for file parts, its raw
// filename. The filename is taken from Content-Disposition as sent:
// mime/multipart's Part.FileName would cut it to its last path element. A
// part whose disposition is not form-data is no form field: it has no name.
func partNames(p *formPart) (name, filename string, hasFilename bool) {
	disp, params, err := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil || disp != "form-data" {
		return "", "", false
	}
	filename, hasFilename = params["filename"]
	return params["name"], filename, hasFilename
}

// readInfo decodes an info part, at most the JSON body limit, into v.
func (a *api) readInfo(p *formPart, v any) error {
	limit := a.lim.MaxJSONBody
	b, err := io.ReadAll(io.LimitReader(p, limit+1))
	if err != nil {
		return formError(err)
	}
	if int64(len(b)) > limit {
		return errJSONTooLarge("info: the part", limit)
	}
	if err := decodeJSON(b, v); err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			ae.msg = "info: " + ae.msg
		}
		return err
	}
	return nil
}

// finishForm reads what follows the form's closing boundary (at most the
// JSON body limit of it), so that a body verifier sees the end of the body
// before anything is committed. The form reader may have read ahead to
// that end already: an error it met there counts too.
func (a *api) finishForm(r *http.Request, mr *multipartReader) error {
	if err := mr.sourceErr(); err != nil {
		return formError(err)
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, a.lim.MaxJSONBody)); err != nil {
		return formError(err)
	}
	return nil
}

// upload serves object/upload: an info part {packageID, affinity} and any
// number of files parts whose filenames are the URL-escaped object paths.
// Files that arrive before info are staged in the default user space and
// moved to the affinity space on commit. All files are committed together
// once the form has ended.
func (a *api) upload(ctx context.Context, r *http.Request) (any, error) {
	mr, err := a.openForm(r)
	if err != nil {
		return nil, err
	}
	defer mr.release()
	var files []gateway.StagedFile
	defer func() {
		// Discard is a no-op for bodies CommitUploads has consumed.
		for _, f := range files {
			f.Body.Discard()
		}
	}()
	seen := map[string]bool{}
	var (
		haveInfo bool
		pkg      gateway.Package
		space    int64
	)
	for {
		p, err := nextPart(mr)
		if err != nil {
			return nil, err
		}
		if p == nil {
			break
		}
		name, filename, hasFilename := partNames(p)
		switch name {
		case "info":
			if haveInfo {
				return nil, badArg("info: the form has more than one info part")
			}
			var info struct {
				PackageID *int64 `json:"packageID"`
				Affinity  *int64 `json:"affinity"`
			}
			if err := a.readInfo(p, &info); err != nil {
				return nil, err
			}
			pid, err := needID("info: packageID", info.PackageID)
			if err != nil {
				return nil, err
			}
			if space, err = optSpace("info: affinity", info.Affinity); err != nil {
				return nil, err
			}
			if pkg, err = a.svc.Package(ctx, pid); err != nil {
				return nil, err
			}
			haveInfo = true
			for _, f := range files {
				if err := a.checkPath(pkg.Name, f.Path); err != nil {
					return nil, err
				}
			}
		case "files":
			if !hasFilename || filename == "" {
				return nil, badArg("files: a files part has no filename (the URL-escaped object path)")
			}
			path, err := url.PathUnescape(filename)
			if err != nil {
				return nil, badArg("files: the filename %q is not a valid URL escape: %v", filename, err)
			}
			if haveInfo {
				if err := a.checkPath(pkg.Name, path); err != nil {
					return nil, err
				}
			}
			if seen[path] {
				return nil, badArg("files: the path %q appears more than once in the form", path)
			}
			seen[path] = true
			st, err := a.svc.Stage(ctx, space, gateway.LimitBody(p, fmt.Sprintf("files: the file %q", path), a.lim.PutLimit()))
			if err != nil {
				return nil, stageError(err)
			}
			files = append(files, gateway.StagedFile{Path: path, Body: st})
		default:
			return nil, badArg("the form has an unexpected part %q: object/upload takes an info part and files parts", name)
		}
		p.Close()
	}
	if !haveInfo {
		return nil, badArg("info: the form has no info part")
	}
	if err := a.finishForm(r, mr); err != nil {
		return nil, err
	}
	objs, err := a.svc.CommitUploadsTo(ctx, pkg.ID, space, files)
	if err != nil {
		return nil, err
	}
	return map[string]any{"uploadeds": toObjects(objs)}, nil
}

// checkPath refuses a file path the gateway would refuse, or one longer
// than the key length limit allows, before its bytes are read; the message
// names the files part.
func (a *api) checkPath(pkg, path string) error {
	if err := gateway.ValidatePath(pkg, path); err != nil {
		return badArg("files: %s", gateway.MessageOf(err))
	}
	if err := a.checkKeyLength("files: path", pkg, path); err != nil {
		return err
	}
	return nil
}

// stageError keeps a refused body an auth error and a client that went
// away (or sent a broken form) a malformed request.
func stageError(err error) error {
	if gateway.CodeOf(err) == gateway.CodeIncompleteBody {
		return formError(err)
	}
	return err
}

// uploadPart serves object/uploadPart: an info part {objectID, index} and
// one file part, in either order. The file is staged (in the object's user
// space when info came first) and stored as the part once the form has
// ended, so a form that fails or is cut off stores nothing.
func (a *api) uploadPart(ctx context.Context, r *http.Request) (any, error) {
	mr, err := a.openForm(r)
	if err != nil {
		return nil, err
	}
	defer mr.release()
	var (
		haveInfo bool
		objID    int64
		objSize  int64 // the parts the object holds so far
		index    int
		space    int64
		staged   *gateway.Staged
	)
	defer func() {
		if staged != nil {
			staged.Discard()
		}
	}()
	for {
		p, err := nextPart(mr)
		if err != nil {
			return nil, err
		}
		if p == nil {
			break
		}
		name, _, _ := partNames(p)
		switch name {
		case "info":
			if haveInfo {
				return nil, badArg("info: the form has more than one info part")
			}
			var info struct {
				ObjectID *int64 `json:"objectID"`
				Index    *int64 `json:"index"`
			}
			if err := a.readInfo(p, &info); err != nil {
				return nil, err
			}
			if objID, err = needID("info: objectID", info.ObjectID); err != nil {
				return nil, err
			}
			if info.Index == nil {
				return nil, badArg("info: index is required")
			}
			if index, err = checkIndex("info: index", *info.Index); err != nil {
				return nil, err
			}
			o, err := a.svc.Object(ctx, objID)
			if err != nil {
				return nil, err
			}
			space, objSize = o.SpaceID, o.Size
			haveInfo = true
		case "file":
			if staged != nil {
				return nil, badArg("file: the form has more than one file part")
			}
			if staged, err = a.svc.Stage(ctx, space, gateway.LimitBody(p, "file: the part", a.lim.PartLimit())); err != nil {
				return nil, stageError(err)
			}
		default:
			return nil, badArg("the form has an unexpected part %q: object/uploadPart takes an info part and a file part", name)
		}
		p.Close()
	}
	if !haveInfo {
		return nil, badArg("info: the form has no info part")
	}
	if staged == nil {
		return nil, badArg("file: the form has no file part")
	}
	if err := a.checkObjectRoom(objSize, staged.Size()); err != nil {
		return nil, err
	}
	if err := a.finishForm(r, mr); err != nil {
		return nil, err
	}
	// The gateway consumes the staged body whatever the outcome.
	st := staged
	staged = nil
	if err := a.svc.UploadObjectPartStaged(ctx, objID, index, st); err != nil {
		return nil, err
	}
	return noData{}, nil
}
