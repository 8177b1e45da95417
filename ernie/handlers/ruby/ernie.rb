# ernie.rb — Ernie's Ruby handler API for imperial's Ernie server.
#
# Handlers written for Ernie (`require 'ernie'`) run unchanged: put this
# directory on the load path (ruby -I ernie/handlers/ruby handler.rb) and
# use Debian's ruby-bert. A handler process reads {packet,4} BERT requests
# on fd 3 and writes replies on fd 4; stdout and stderr are free.
#
#   require 'ernie'
#
#   module Ext
#     def add(a, b)
#       a + b
#     end
#   end
#
#   logfile('/var/log/ext.log')   # optional; then, optionally:
#   loglevel(Logger::INFO)        # (a new logfile logs at DEBUG)
#   Ernie.expose(:ext, Ext)
#
# Every public method of the exposed module is a function of the BERT-RPC
# module. When the handler file has run, Ernie.start serves requests
# (unless Ernie.auto_start = false). Replies:
#   {call, M, F, A}   -> {reply, Result}
#                        {error, {server, 0, "Ernie::ServerError", Msg, Backtrace}}
#                          for an unknown module or function
#                        {error, {user, 0, ExceptionClass, Msg, Backtrace}}
#                          when the function raised
#   {cast, M, F, A}   -> {noreply} after running it (exceptions are dropped)
#   anything else     -> {error, {server, 0, "Invalid request: ..."}}
#
# Written for imperial from Ernie's documented behaviour (see
# shared/specs/ernie-bert.md §4.3). Differences: it loads the C decoder that
# Debian's ruby-bert ships but does not find (set ERNIE_PURE_RUBY=1 to keep
# the pure-Ruby one), answers undecodable requests with an error instead of
# crashing, builds log messages only when their level is enabled, reads
# requests in chunks (one read(2) per request, not two) and writes each
# reply with one write(2), length and body together.

require 'bert'
require 'logger'

unless ENV['ERNIE_PURE_RUBY']
  begin
    if BERT::Decode.respond_to?(:impl) && BERT::Decode.impl == 'Ruby'
      ext = $LOAD_PATH.find { |p| p =~ /bert-[\d.]+\z/ && File.exist?(File.join(p, 'decode.so')) }
      require File.join(ext, 'decode') if ext
    end
  rescue LoadError, StandardError
    # keep the pure-Ruby decoder
  end
end

# FastBERT writes the BERT terms replies usually hold (small integers,
# symbols, strings, nil, booleans, floats, arrays and tuples of those) with
# the exact bytes BERT.encode writes, several times faster; it returns nil
# for anything else (hashes, times, regexps, bignums, deep nesting), which
# then goes through BERT.encode.
module FastBERT
  MAX_INT = (1 << 27) - 1 # ruby-bert's INTEGER_EXT range
  MIN_INT = -(1 << 27)
  MAX_DEPTH = 64
  NIL = BERT.encode(nil).byteslice(1..).freeze
  TRUE = BERT.encode(true).byteslice(1..).freeze
  FALSE = BERT.encode(false).byteslice(1..).freeze
  # Symbols seen are kept encoded (a handler's replies use few); at most
  # MAX_SYMBOLS, so that symbols made from data cannot grow it for ever.
  MAX_SYMBOLS = 4096
  SYMBOLS = {}
  PACKET_HEAD = "\0\0\0\0\x83".b.freeze

  def self.encode(obj)
    buf = String.new("\x83", encoding: Encoding::BINARY, capacity: 64)
    put(buf, obj, 0) ? buf : nil
  end

  # packet returns obj encoded behind its 4-byte length (one write), or
  # nil as encode does.
  def self.packet(obj)
    buf = PACKET_HEAD.dup
    return nil unless put(buf, obj, 0)
    n = buf.bytesize - 4
    buf.setbyte(0, n >> 24)
    buf.setbyte(1, (n >> 16) & 255)
    buf.setbyte(2, (n >> 8) & 255)
    buf.setbyte(3, n & 255)
    buf
  end

  def self.symbol(sym)
    s = sym.to_s
    enc = String.new("d", encoding: Encoding::BINARY)
    [s.bytesize].pack('n', buffer: enc)
    enc << (s.ascii_only? ? s : s.b)
    SYMBOLS[sym] = enc.freeze if SYMBOLS.size < MAX_SYMBOLS
    enc
  end

  def self.put(buf, obj, depth)
    return false if depth > MAX_DEPTH
    case obj
    when Integer
      if obj >= 0 && obj < 256
        buf << 97 << obj
      elsif obj <= MAX_INT && obj >= MIN_INT
        buf << 98
        [obj].pack('N', buffer: buf)
      else
        return false
      end
    when Symbol
      buf << (SYMBOLS[obj] || symbol(obj))
    when String
      buf << 109
      [obj.bytesize].pack('N', buffer: buf)
      buf << (obj.ascii_only? ? obj : obj.b)
    when nil then buf << NIL
    when true then buf << TRUE
    when false then buf << FALSE
    when Float
      return false unless obj.finite?
      buf << 99 << format('%15.15e', obj).ljust(31, "\0")
    when BERT::Tuple
      if obj.length < 256
        buf << 104 << obj.length
      else
        buf << 105
        [obj.length].pack('N', buffer: buf)
      end
      obj.each { |e| return false unless put(buf, e, depth + 1) }
    when Array
      if obj.empty?
        buf << 106
      else
        buf << 108
        [obj.length].pack('N', buffer: buf)
        obj.each { |e| return false unless put(buf, e, depth + 1) }
        buf << 106
      end
    else
      return false
    end
    true
  end
end

class Ernie
  VERSION = '2.5.2'

  # Raised by dispatch for an unknown module or function; reported to the
  # client as a server error.
  class ServerError < StandardError; end

  # A BERT-RPC module: a name and its functions (callables by Symbol).
  class Mod
    attr_accessor :name, :funs

    def initialize(name)
      self.name = name
      self.funs = {}
    end

    def fun(name, block)
      raise TypeError, 'block required' if block.nil?
      funs[name] = block
    end
  end

  class << self
    attr_accessor :mods, :current_mod, :log, :auto_start, :count, :virgin_procline
  end

  self.mods = {}
  self.current_mod = nil
  self.log = Logger.new(STDOUT)
  self.log.level = Logger::FATAL
  self.auto_start = true
  self.count = 0
  self.virgin_procline = $0

  # Define module +name+ with the functions +block+ declares (old DSL).
  def self.mod(name, block)
    m = Mod.new(name)
    self.current_mod = m
    mods[name] = m
    block.call
  end

  # Declare function +name+ of the current module (old DSL).
  def self.fun(name, block)
    current_mod.fun(name, block)
  end

  # Expose every public instance method of +mixin+ as module +name+.
  # Returns the object the methods run on.
  def self.expose(name, mixin)
    context = Object.new
    context.extend(mixin)
    mod(name, lambda {
      mixin.public_instance_methods.each do |meth|
        fun(meth.to_sym, context.method(meth))
      end
    })
    context
  end

  # Log to +file+ (a path or an IO). A new logger logs everything (DEBUG):
  # call loglevel afterwards to log less.
  def self.logfile(file)
    self.log = Logger.new(file)
  end

  def self.loglevel(level)
    log.level = level
  end

  # Call mod:fun(*args).
  def self.dispatch(mod, fun, args)
    m = mods[mod] or raise ServerError, "No such module '#{mod}'"
    f = m.funs[fun] or raise ServerError, "No such function '#{mod}:#{fun}'"
    f.call(*args)
  end

  # Bytes read from +input+ and not yet used: a read(2) of up to READ_CHUNK
  # bytes usually brings a whole request, where reading the header and then
  # the body took two.
  READ_CHUNK = 64 * 1024

  # Read one BERP from +input+ and decode it; nil at end of input.
  def self.read_berp(input)
    unless input.equal?(@rbuf_io)
      @rbuf_io = input
      @rbuf = String.new(capacity: READ_CHUNK, encoding: Encoding::BINARY)
      @chunk = String.new(capacity: READ_CHUNK, encoding: Encoding::BINARY)
    end
    buf = @rbuf
    return nil unless fill(input, buf, 4)
    len = buf.unpack1('N')
    return nil unless fill(input, buf, 4 + len)
    data = buf.byteslice(4, len)
    if buf.bytesize == 4 + len
      buf.clear
    else
      buf.replace(buf.byteslice(4 + len, buf.bytesize))
    end
    BERT.decode(data)
  end

  # Read from +input+ until +buf+ holds +n+ bytes; false at end of input.
  def self.fill(input, buf, n)
    while buf.bytesize < n
      buf << input.readpartial([READ_CHUNK, n - buf.bytesize].max, @chunk)
    end
    true
  rescue EOFError
    false
  end

  # Encode +obj+ and write it as one BERP (one write call).
  def self.write_berp(output, obj)
    packet = FastBERT.packet(obj)
    unless packet
      data = BERT.encode(obj)
      packet = [data.bytesize].pack('N') << data
    end
    loop do
      n = output.syswrite(packet)
      break if n >= packet.bytesize
      packet = packet.byteslice(n, packet.bytesize - n)
    end
  end

  # Serve requests from fd 3, replying on fd 4, until the server goes away.
  def self.start
    procline('starting')
    log.info { "(#{Process.pid}) Starting" }
    log.debug { mods.inspect }
    input = IO.new(3, 'rb')
    output = IO.new(4, 'wb')
    input.sync = true
    output.sync = true
    loop do
      process(input, output)
      self.count += 1
    end
  end

  # Handle one request; returns [request, reply] (for tests).
  def self.process(input, output)
    procline('waiting')
    begin
      iruby = read_berp(input)
    rescue StandardError => e
      iruby = e
    end
    if iruby.nil?
      msg = 'Could not read BERP length header. Ernie server may have gone away. Exiting now.'
      puts msg
      log.info { "(#{Process.pid}) #{msg}" }
      exit!
    end

    if iruby.is_a?(Exception)
      procline('invalid request')
      log.error { "-> undecodable request: #{iruby.message}" }
      oruby = t[:error, t[:protocol, 2, iruby.class.to_s, "Undecodable request: #{iruby.message}", []]]
      write_berp(output, oruby)
      return [nil, oruby]
    end

    if iruby.is_a?(Array) && iruby.size == 4 && iruby[0] == :call
      _, mod, fun, args = iruby
      procline("#{mod}:#{fun}(#{args})")
      log.info { "-> #{iruby.inspect}" } if log.info? # (a block given to Logger is a new Proc)
      begin
        res = dispatch(mod, fun, args)
        oruby = t[:reply, res]
        log.debug { "<- #{oruby.inspect}" } if log.debug?
      rescue ServerError => e
        oruby = t[:error, t[:server, 0, e.class.to_s, e.message, e.backtrace || []]]
        log.error { "<- #{oruby.inspect}" }
        log.error { (e.backtrace || []).join("\n") }
      rescue Object => e
        oruby = t[:error, t[:user, 0, e.class.to_s, e.message, e.backtrace || []]]
        log.error { "<- #{oruby.inspect}" }
        log.error { (e.backtrace || []).join("\n") }
      end
      begin
        write_berp(output, oruby)
      rescue Errno::EPIPE, IOError
        exit!
      rescue StandardError => e # the result has no BERT form
        oruby = t[:error, t[:user, 0, e.class.to_s, e.message, e.backtrace || []]]
        write_berp(output, oruby)
      end
    elsif iruby.is_a?(Array) && iruby.size == 4 && iruby[0] == :cast
      _, mod, fun, args = iruby
      procline("#{mod}:#{fun}(#{args})")
      log.info { "-> #{iruby.inspect}" } if log.info?
      begin
        dispatch(mod, fun, args)
      rescue Object => e
        log.error { "cast #{mod}:#{fun} raised #{e.class}: #{e.message}" }
      end
      oruby = t[:noreply]
      write_berp(output, oruby)
    else
      procline('invalid request')
      log.error { "-> #{iruby.inspect}" }
      oruby = t[:error, t[:server, 0, "Invalid request: #{iruby.inspect}"]]
      write_berp(output, oruby)
    end
    [iruby, oruby]
  end

  # Show what the handler does in ps. The fixed start of the line is built
  # once (per virgin_procline): this runs twice per request.
  def self.procline(msg)
    unless virgin_procline.equal?(@procline_for)
      @procline_for = virgin_procline
      @procline_head = "ernie handler #{VERSION} (ruby) - #{virgin_procline} - [".freeze
    end
    line = "#{@procline_head}#{count}] #{msg}"
    line = line[0, 160] if line.length > 160
    $0 = line
  end

  def self.version
    VERSION
  end
end

# Top-level helpers of handler files.
def logfile(name)
  Ernie.logfile(name)
end

def loglevel(level)
  Ernie.loglevel(level)
end

at_exit do
  Ernie.start if Ernie.auto_start && $!.nil?
end
