# Prints "name hex" lines: BERT.encode of each value, as Ruby's bert writes it.
# Used by bert_peer_test.go (Go decodes and compares with its own table).
require 'bert'

CASES = {
  'nil' => nil,
  'true' => true,
  'false' => false,
  'small' => 7,
  'minus_one' => -1,
  'int27' => 2**27,
  'big70' => 2**70,
  'neg_big70' => -(2**70),
  'float' => 1.5,
  'neg_float' => -0.1,
  'huge_float' => 1.0e300,
  'pi' => 3.14159,
  'string' => 'abc',
  'utf8' => 'é',
  'binary' => "\x00\xff".b,
  'symbol' => :sym,
  'array' => [1, [2, [3]]],
  'empty_array' => [],
  'tuple' => t[:a, 1],
  'empty_tuple' => t[],
  'hash' => { 'a' => 1, :b => [nil, true] },
  'empty_hash' => {},
  'time' => Time.at(1255295581, 446228),
  'regex' => /^c(a)t$/ix,
  'regex_m' => /x/m,
  'nested' => [{ k: [t[:x, nil], Time.at(0, 1)] }, false],
  'call' => t[:call, :ext, :add, [1, 2]],
  'error' => t[:error, t[:user, 0, 'RuntimeError', 'abandon hope!', ['a.rb:1']]],
}

CASES.each { |name, v| puts "#{name} #{BERT.encode(v).unpack1('H*')}" }
