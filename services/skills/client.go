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

package skills

import (
	"context"
	"net/url"

	"github.com/skillmesh/skillmesh/services/platform/client"
)

// Client is the typed client of the skills service, for the services and
// the gateway that call it.
type Client struct{ c *client.Client }

// NewClient calls the skills service at baseURL (SKILLS_URL).
func NewClient(baseURL string, opts client.Options) (*Client, error) {
	opts.Name = "skills"
	c, err := client.New(baseURL, opts)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Latest returns the user's latest assessment; client.IsNotFound(err) when
// the user has none.
func (c *Client) Latest(ctx context.Context, userID string) (Assessment, error) {
	var a Assessment
	err := c.c.GetJSON(ctx, "/users/"+url.PathEscape(userID)+"/skills", &a)
	return a, err
}

// Assess sends a CV for assessment (not retried: it is not idempotent).
func (c *Client) Assess(ctx context.Context, userID string, cv CV) (Assessment, error) {
	var a Assessment
	err := c.c.PostJSON(ctx, "/users/"+url.PathEscape(userID)+"/assess", cv, &a)
	return a, err
}

// BreakerOpen reports whether the client has stopped calling for a while.
func (c *Client) BreakerOpen() bool { return c.c.BreakerOpen() }
