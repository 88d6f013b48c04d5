package storeurl

import "github.com/sessionkit/session/phpcodec"

func init() {
	codecs["php"] = phpcodec.PHP
	codecs["php_binary"] = phpcodec.PHPBinary
	codecs["php_serialize"] = phpcodec.PHPSerialize
}
