/*
Copyright 2026 The skillmesh Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controllers

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// A pass ends in one of three ways besides success, and status says which
// (Flux's and Cluster API's error kinds):
//   - a read failed: the operator does not know, so Ready is Unknown and the
//     error is returned (retried with backoff);
//   - a write failed in a way that may pass (timeout, conflict, the server
//     away): Ready False ApplyFailed, the error is returned;
//   - the API server refused a child as invalid or forbidden: retrying the
//     same spec cannot help, so the error is terminal (no requeue) and
//     Stalled says why; the next change of the spec tries again.
// Waiting for something (a rollout, a dependency) is not an error: watches
// bring the next pass.

// readError marks an error of reading what status depends on.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }
func (e readError) Unwrap() error { return e.err }

// readFailed wraps err as a failed read; nil stays nil.
func readFailed(err error) error {
	if err == nil {
		return nil
	}
	return readError{err}
}

// outcome is how a pass ended, as status needs to know it.
type outcome struct {
	// ReadErr: a read failed.
	ReadErr error
	// ApplyErr: a write failed and may pass on a retry.
	ApplyErr error
	// Refused: the API server refused a child; terminal.
	Refused error
	// Invalid: the spec passed the API server's schema but cannot be
	// realised as written (a routes file the gateway would refuse). The pass
	// applied everything else and is complete; like a refusal, only a change
	// of the spec can help.
	Invalid error
}

// outcomeOf classifies the error a pass returns.
func outcomeOf(err error) outcome {
	var re readError
	switch {
	case err == nil:
		return outcome{}
	case errors.As(err, &re):
		return outcome{ReadErr: err}
	case errors.Is(err, reconcile.TerminalError(nil)):
		return outcome{Refused: err}
	default:
		return outcome{ApplyErr: err}
	}
}

// complete reports whether the pass reached the API server's answer for
// everything it asked: only then does status.observedGeneration move.
func (o outcome) complete() bool { return o.ReadErr == nil && o.ApplyErr == nil }

// applyError is what applying a set of children failed with: terminal when
// the API server refused every failed child for what it is (invalid,
// forbidden, bad request), so sending it again cannot help; otherwise the
// plain error, retried.
func applyError(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	joined := errors.Join(errs...)
	for _, err := range errs {
		if !refusedByServer(err) {
			return joined
		}
	}
	return reconcile.TerminalError(joined)
}

func refusedByServer(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err)
}

// passError is what a pass returns after it applied (applyErr) and then
// observed the workload (observeErr). A failed observation wins, as a failed
// read, and keeps the apply error's words but not its wrapping: a refusal
// must not make the failed read terminal.
func passError(applyErr, observeErr error) error {
	switch {
	case observeErr == nil:
		return applyErr
	case applyErr == nil:
		return readFailed(observeErr)
	default:
		return readFailed(fmt.Errorf("%w (after applying failed: %v)", observeErr, applyErr))
	}
}
