package jcsapi

import (
	"context"

	"jcsgw/gateway"
)

// The limits of the /v1 front (a.lim, from gateway.Limits):
//
//   - JSON bodies and form info parts: MaxJSONBody (1 MiB): 400 BadArgument
//     naming the limit, once limit+1 bytes have been read.
//   - upload files and presigned uploads: MaxPutSize (5 GiB, and never more
//     than MaxObjectSize) each; uploadPart bodies: MaxPartSize (5 GiB). An
//     announced length over the limit is refused before the body is read;
//     a body of unknown length (a form's file part) is cut off at the limit.
//     Either way nothing is stored: 400 BadArgument, and the connection
//     ends (Connection: close) since the rest of the body is not read.
//   - a multipart object: MaxObjectSize (5 TiB); a part that would take the
//     parts uploaded so far past it is refused (400 BadArgument). The check
//     counts a part that replaces an index as added, so it errs on the side
//     of refusing near the limit.
//   - completeMultipartUpload: at most MaxParts (10,000) indexes.
//   - paths: package name + "/" + path at most MaxKeyLength (1,024) bytes.
//   - listByPath: maxKeys capped at MaxListKeys (1,000).

// checkKeyLength refuses a path whose key (package name, "/", path) is
// longer than the key length limit; field names the member at fault.
func (a *api) checkKeyLength(field, pkg, path string) error {
	if k := gateway.JoinKey(pkg, path); len(k) > a.lim.MaxKeyLength {
		return badArg("%s is too long: package name, '/' and path together are %d bytes; at most %d are allowed",
			field, len(k), a.lim.MaxKeyLength)
	}
	return nil
}

// checkPackagePath is checkKeyLength for a path in the package with ID
// pkgID. The gateway refuses keys over gateway.MaxKeyLen itself; only a
// lower configured limit needs the package's name looked up here. An
// unknown package passes: the gateway answers for it.
func (a *api) checkPackagePath(ctx context.Context, field string, pkgID int64, path string) error {
	if a.lim.MaxKeyLength >= gateway.MaxKeyLen || len(path) < a.lim.MaxKeyLength-255 {
		return nil // package names are at most 255 bytes
	}
	p, err := a.svc.Package(ctx, pkgID)
	if err != nil {
		return nil
	}
	return a.checkKeyLength(field, p.Name, path)
}

// checkObjectRoom refuses a part of n bytes for a multipart object whose
// parts hold cur bytes when together they pass the object size limit.
func (a *api) checkObjectRoom(cur, n int64) error {
	return gateway.CheckSize("the multipart object with this part", cur+n, a.lim.MaxObjectSize)
}

// checkIndexCount refuses a completion listing more parts than allowed.
func (a *api) checkIndexCount(field string, n int) error {
	if n > a.lim.MaxParts {
		return badArg("%s lists %d parts; at most %d are allowed", field, n, a.lim.MaxParts)
	}
	return nil
}
