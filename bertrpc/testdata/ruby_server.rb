# A BERT-RPC server in Ruby (bert gem), Ernie-style: on each connection it
# reads info BERPs and one request, writes one reply and closes. Prints its
# port on stdout, exits when stdin closes. Used by client_peer_test.go.
require 'bert'
require 'socket'

server = TCPServer.new('127.0.0.1', 0)
STDOUT.puts server.addr[1]
STDOUT.flush
Thread.new { STDIN.read; exit!(0) }

def read_berp(sock)
  hdr = sock.read(4)
  return nil if hdr.nil? || hdr.bytesize < 4
  sock.read(hdr.unpack1('N'))
end

def write_berp(sock, term)
  data = BERT.encode(term)
  sock.write([data.bytesize].pack('N'))
  sock.write(data)
end

def reply(kind, mod, fun, args, infos)
  return t[:noreply] if kind == :cast
  unless mod == :ext
    return t[:error, t[:server, 0, 'Ernie::ServerError', "No such module '#{mod}'", []]]
  end
  case fun
  when :add then t[:reply, args[0] + args[1]]
  when :echo then t[:reply, args[0]]
  when :infos then t[:reply, infos]
  when :fail then t[:error, t[:user, 0, 'RuntimeError', 'abandon hope!', caller]]
  else t[:error, t[:server, 0, 'Ernie::ServerError', "No such function '#{mod}:#{fun}'", []]]
  end
end

loop do
  sock = server.accept
  begin
    infos = []
    while (body = read_berp(sock))
      term = BERT.decode(body)
      if term[0] == :info
        infos << t[term[1], term[2]]
        next
      end
      kind, mod, fun, args = term
      write_berp(sock, reply(kind, mod, fun, args, infos))
      break
    end
  rescue StandardError => e
    write_berp(sock, t[:error, t[:protocol, 0, e.class.to_s, e.message, []]]) rescue nil
  ensure
    sock.close
  end
end
