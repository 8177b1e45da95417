package dist

// Control message operations (spec §5).
const (
	opLink                = 1
	opSend                = 2
	opExit                = 3
	opUnlink              = 4
	opNodeLink            = 5
	opRegSend             = 6
	opGroupLeader         = 7
	opExit2               = 8
	opSendTT              = 12
	opExitTT              = 13
	opRegSendTT           = 16
	opExit2TT             = 18
	opMonitorP            = 19
	opDemonitorP          = 20
	opMonitorPExit        = 21
	opSendSender          = 22
	opSendSenderTT        = 23
	opPayloadExit         = 24
	opPayloadExitTT       = 25
	opPayloadExit2        = 26
	opPayloadExit2TT      = 27
	opPayloadMonitorPExit = 28
	opSpawnRequest        = 29
	opSpawnRequestTT      = 30
	opSpawnReply          = 31
	opSpawnReplyTT        = 32
	opAliasSend           = 33
	opAliasSendTT         = 34
	opUnlinkID            = 35
	opUnlinkIDAck         = 36
)

// Spawn reply flags (spec §5, SPAWN_REPLY).
const (
	spawnFlagLink    = 1
	spawnFlagMonitor = 2
)
