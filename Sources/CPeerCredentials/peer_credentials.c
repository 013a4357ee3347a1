// Header-only: see include/peer_credentials.h. SwiftPM needs one source file per C target.
#include "peer_credentials.h"
