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

package career

import (
	"context"
	"net/url"

	"github.com/skillmesh/skillmesh/services/platform/client"
)

// Client is the typed client of the career service.
type Client struct{ c *client.Client }

// NewClient calls the career service at baseURL (CAREER_URL).
func NewClient(baseURL string, opts client.Options) (*Client, error) {
	opts.Name = "career"
	c, err := client.New(baseURL, opts)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Plan returns the user's plan; client.IsNotFound(err) when there is none.
func (c *Client) Plan(ctx context.Context, userID string) (Plan, error) {
	var p Plan
	err := c.c.GetJSON(ctx, "/users/"+url.PathEscape(userID)+"/career-plan", &p)
	return p, err
}

// MakePlan plans the user towards targetRole (not retried).
func (c *Client) MakePlan(ctx context.Context, userID, targetRole string) (Plan, error) {
	var p Plan
	err := c.c.PostJSON(ctx, "/users/"+url.PathEscape(userID)+"/career-plan", map[string]string{"target_role": targetRole}, &p)
	return p, err
}

// Roles lists the role catalogue.
func (c *Client) Roles(ctx context.Context) ([]Role, error) {
	var out struct {
		Roles []Role `json:"roles"`
	}
	err := c.c.GetJSON(ctx, "/roles", &out)
	return out.Roles, err
}
