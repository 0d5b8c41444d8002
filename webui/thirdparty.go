package webui

import "github.com/gin-gonic/gin"

// thirdParty registers the SMSGate-compatible API under /3rdparty/v1.
// Not implemented yet: no routes are registered.
func (s *Server) thirdParty(_ *gin.Engine) {}
