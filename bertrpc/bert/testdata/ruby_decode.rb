# Reads "name hex" lines (BERT written by Go's bert.Encode), decodes each with
# BERT.decode and compares it with the Ruby value expected for that name.
# Prints "ok name" or "FAIL name: ..." per line. Used by bert_peer_test.go.
require 'bert'

def same?(got, want)
  case want
  when BERT::Tuple
    got.is_a?(BERT::Tuple) && got.size == want.size && got.zip(want).all? { |g, w| same?(g, w) }
  when Array
    got.is_a?(Array) && !got.is_a?(BERT::Tuple) && got.size == want.size && got.zip(want).all? { |g, w| same?(g, w) }
  when Hash
    got.is_a?(Hash) && got.size == want.size &&
      want.all? { |k, v| (gk = got.keys.find { |x| same?(x, k) }) && same?(got[gk], v) }
  when String
    got.is_a?(String) && got.b == want.b
  when Regexp
    got.is_a?(Regexp) && got.source == want.source && got.options == want.options
  when Time
    got.is_a?(Time) && got == want
  when Float
    got.is_a?(Float) && got == want
  else
    got.class == want.class && got == want
  end
end

EXPECT = {
  'nil' => nil,
  'true' => true,
  'false' => false,
  'atom_true' => :true,
  'small' => 7,
  'minus_one' => -1,
  'int32' => 2**31 - 1,
  'big70' => 2**70,
  'neg_big70' => -(2**70),
  'float' => 1.5,
  'neg_float' => -0.1,
  'huge_float' => 1.0e300,
  'tiny_float' => 5.0e-324,
  'pi' => 3.14159,
  'string' => 'abc',
  'utf8' => 'é',
  'binary' => "\x00\xff".b,
  'symbol' => :sym,
  'bytelist' => [1, 2, 300],
  'string_ext' => [104, 105],
  'array' => [1, [2, [3]]],
  'empty_array' => [],
  'tuple' => t[:a, 1],
  'empty_tuple' => t[],
  'hash' => { 'a' => 1, :b => [nil, true] },
  'empty_hash' => {},
  'time' => Time.at(1255295581, 446228),
  'time_before_1970' => Time.at(-1, 5),
  'regex' => /^c(a)t$/ix,
  'regex_m' => /x/m,
  'nested' => [{ k: [t[:x, nil], Time.at(0, 1)] }, false],
  'call' => t[:call, :ext, :add, [1, 2]],
  'info' => t[:info, :priority, [:low]],
  'reply' => t[:reply, nil],
  'noreply' => t[:noreply],
  'error' => t[:error, t[:user, 0, 'RuntimeError', 'abandon hope!', ['a.rb:1']]],
}

seen = 0
STDIN.each_line do |line|
  name, hex = line.split
  want = EXPECT.fetch(name) { puts "FAIL #{name}: no expectation"; next }
  begin
    got = BERT.decode([hex].pack('H*'))
    if same?(got, want)
      puts "ok #{name}"
    else
      puts "FAIL #{name}: got #{got.inspect}, want #{want.inspect}"
    end
  rescue StandardError => e
    puts "FAIL #{name}: #{e.class}: #{e.message}"
  end
  seen += 1
end
puts "FAIL count: #{seen} of #{EXPECT.size}" if seen != EXPECT.size
