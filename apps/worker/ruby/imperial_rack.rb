# imperial's Rack adapter: runs one Rack application as an imperial external worker.
#
# imperial starts this script once per worker process (see apps/worker). It reads requests
# on fd 3 and writes replies on fd 4; every message is a 4-byte big-endian length and that
# many bytes of BERT:
#
#   imperial -> worker   {request, Environ, Body}
#   worker -> imperial   {response, Status, Headers, Body}
#
# Environ is a list of {Name, Value} binaries (the CGI variables as the uwsgi protocol
# carries them), Body a binary. The body the application yields is joined (one reply per
# request).
#
# Usage:  ruby imperial_rack.rb --rack config.ru      (Debian: ruby-rack, ruby-bert)

require 'bert'
require 'rack'
require 'stringio'

MAX_PACKET = 64 << 20

def load_app(argv)
  ru = nil
  i = 0
  while i < argv.length
    case argv[i]
    when '--rack'
      ru = argv[i + 1]
      i += 2
    else
      abort "imperial_rack: unknown argument #{argv[i].inspect}"
    end
  end
  abort 'imperial_rack: need --rack FILE' unless ru
  app, = Rack::Builder.parse_file(ru)
  app
end

def environ(pairs, body)
  env = {}
  pairs.each do |kv|
    next unless kv.is_a?(Array) && kv.length == 2
    env[kv[0].to_s.dup.force_encoding('ASCII-8BIT').encode('UTF-8', invalid: :replace, undef: :replace)] = kv[1].to_s.dup
  end
  env['REQUEST_METHOD'] ||= 'GET'
  env['SCRIPT_NAME'] ||= ''
  env['PATH_INFO'] ||= (env['REQUEST_URI'] || '/').split('?', 2)[0]
  env['QUERY_STRING'] ||= ''
  env['SERVER_NAME'] ||= 'localhost'
  env['SERVER_PORT'] ||= '80'
  env['SERVER_PROTOCOL'] ||= 'HTTP/1.0'
  env.delete('CONTENT_LENGTH') if env['CONTENT_LENGTH'] == ''
  scheme = env['REQUEST_SCHEME']
  scheme = (env['HTTPS'] == 'on' ? 'https' : 'http') if scheme.nil? || scheme.empty?
  input = StringIO.new(body.to_s.dup.force_encoding('ASCII-8BIT'))
  env.merge!(
    'rack.version' => Rack::VERSION, 'rack.url_scheme' => scheme, 'rack.input' => input,
    'rack.errors' => $stderr, 'rack.multithread' => false, 'rack.multiprocess' => true,
    'rack.run_once' => false, 'rack.hijack?' => false
  )
  env
end

def handle(app, pairs, body)
  status, headers, out = app.call(environ(pairs, body))
  chunks = +''
  chunks.force_encoding('ASCII-8BIT')
  begin
    out.each { |c| chunks << c.to_s.dup.force_encoding('ASCII-8BIT') }
  ensure
    out.close if out.respond_to?(:close)
  end
  hdrs = []
  headers.each do |k, v|
    Array(v).flat_map { |x| x.to_s.split("\n") }.each { |vv| hdrs << BERT::Tuple[k.to_s, vv] }
  end
  code = status.to_i
  text = "#{code} #{Rack::Utils::HTTP_STATUS_CODES[code]}"
  BERT::Tuple[:response, text, hdrs, chunks]
rescue StandardError, ScriptError => e
  $stderr.puts "#{e.class}: #{e.message}\n\t#{(e.backtrace || []).join("\n\t")}"
  msg = "Internal Server Error\n"
  BERT::Tuple[:response, '500 Internal Server Error',
              [BERT::Tuple['Content-Type', 'text/plain'], BERT::Tuple['Content-Length', msg.bytesize.to_s]], msg]
end

def read_exact(io, n)
  buf = +''
  buf.force_encoding('ASCII-8BIT')
  while buf.bytesize < n
    chunk = io.read(n - buf.bytesize)
    return nil if chunk.nil? || chunk.empty?
    buf << chunk
  end
  buf
end

app = load_app(ARGV)
requests = IO.new(3, 'rb')
replies = IO.new(4, 'wb')
replies.sync = true
loop do
  head = read_exact(requests, 4)
  break if head.nil?
  len = head.unpack1('N')
  abort "imperial_rack: packet of #{len} bytes" if len > MAX_PACKET
  data = read_exact(requests, len)
  break if data.nil?
  term = BERT.decode(data)
  reply =
    if term.is_a?(Array) && term.length == 3 && term[0] == :request
      handle(app, term[1], term[2])
    else
      BERT::Tuple[:error, 'want {request, Environ, Body}']
    end
  bytes = BERT.encode(reply)
  replies.write([bytes.bytesize].pack('N') + bytes)
end
